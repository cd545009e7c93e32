// kiln — the whole public API.
#pragma once

#include "kiln/builder.h"
#include "kiln/limits.h"
#include "kiln/logger.h"
#include "kiln/network.h"
#include "kiln/runtime.h"
#include "kiln/types.h"
