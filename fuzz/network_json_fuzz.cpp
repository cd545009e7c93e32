// parseNetworkJsonString on arbitrary text, then a build. A network that builds must load back
// from its own plan (anything else is a builder/reader disagreement, reported as a crash) and
// is run once on zeroed inputs. Weight files resolve against a folder of small .npy files.
#include <cstdlib>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "kiln/parsers/network_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace kiln;
  fuzz::FuzzLogger logger;
  Builder builder(logger);
  std::unique_ptr<NetworkDefinition> network = builder.createNetwork();
  parsers::NetworkJsonOptions options;
  options.limits = fuzz::fuzzLimits();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!parsers::parseNetworkJsonString(text, KILN_FUZZ_WEIGHTS_DIR, *network, logger, options)) {
    return 0;
  }
  std::unique_ptr<BuilderConfig> config = builder.createBuilderConfig();
  config->setBuilderOptimizationLevel(0);
  config->setNbThreads(1);
  const std::vector<std::byte> plan = builder.buildSerializedNetwork(*network, *config);
  if (plan.empty()) return 0;

  Runtime runtime(logger);
  runtime.setNbThreads(1);
  std::unique_ptr<Engine> engine = runtime.deserialize(plan);
  if (!engine) {
    std::fprintf(stderr, "a plan the builder wrote does not load\n");
    std::abort();
  }
  fuzz::runOnce(*engine);
  return 0;
}
