// The .npy reader behind the JSON network's weight files, on arbitrary bytes: it must refuse
// or return exactly as many values as the bytes hold.
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_util.h"
#include "parsers/json/npy_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace kiln::parsers::netjson;
  NpyArray array;
  std::string error;
  if (parseNpy(kiln::fuzz::asBytes(data, size), array, error)) {
    // No more values than bytes, each value from at least one byte.
    if (array.data.size() % kiln::elementSize(array.type) != 0 ||
        static_cast<std::size_t>(array.count()) > size) {
      std::abort();
    }
  } else if (error.empty()) {
    std::abort();  // every refusal says why
  }
  return 0;
}
