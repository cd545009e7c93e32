// kiln inspect shows the planned arena beside its lower bound: in text, and in --json as
// memory.arena_bytes and memory.lower_bound_bytes (issue #7).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "run_kiln.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

TEST(InspectMemory, TextAndJsonShowArenaAndLowerBound) {
  const fs::path dir =
      fs::temp_directory_path() / ("kiln_inspect_memory_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string plan = (dir / "lenet.plan").string();
  const auto built = test::runKiln({"build", "--network=" KILN_SOURCE_DIR "/samples/lenet.json",
                                    "--saveEngine=" + plan, "--builderOptimizationLevel=0"},
                                   dir);
  ASSERT_EQ(built.exitCode, 0) << built.err;

  const auto json = test::runKiln({"inspect", "--json", plan}, dir);
  ASSERT_EQ(json.exitCode, 0) << json.err;
  const auto doc = nlohmann::json::parse(json.out);
  const auto arena = doc.at("memory").at("arena_bytes").get<uint64_t>();
  const auto lowerBound = doc.at("memory").at("lower_bound_bytes").get<uint64_t>();
  EXPECT_GT(lowerBound, 0u);
  EXPECT_GE(arena, lowerBound);
  EXPECT_TRUE(doc.at("layers").is_array());

  const auto text = test::runKiln({"inspect", plan}, dir);
  ASSERT_EQ(text.exitCode, 0) << text.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(
      text.out, match,
      std::regex(R"(\[I\] Arena: (\d+) bytes planned, lower bound (\d+) bytes \(ratio [0-9.]+\))")))
      << text.out;
  EXPECT_EQ(std::stoull(match[1]), arena);
  EXPECT_EQ(std::stoull(match[2]), lowerBound);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln
