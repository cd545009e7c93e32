// Flag values of the kiln command that CLI11 does not parse itself (--loadInputs,
// --memPoolSize), and the number conversions and random data behind inputs.
#include "options.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cli_error.h"
#include "numeric_convert.h"
#include "random_inputs.h"

namespace kiln::cli {
namespace {

TEST(Options, LoadInputsSpecs) {
  const auto files = parseLoadInputs({"x:a.npy,'in:0':b.npy", "scope/y:0:c.npy"});
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].tensor, "x");
  EXPECT_EQ(files[0].path, "a.npy");
  EXPECT_EQ(files[1].tensor, "in:0");  // quoted names may hold ':'
  EXPECT_EQ(files[1].path, "b.npy");
  EXPECT_EQ(files[2].tensor, "scope/y:0");  // unquoted: the name ends at the last ':'
  EXPECT_EQ(files[2].path, "c.npy");

  for (const char* bad : {"x", "x:", ":a.npy", "'x:a.npy"}) {
    EXPECT_THROW(parseLoadInputs({bad}), CliError) << bad;
  }
  try {
    parseLoadInputs({"x:a.npy,x:b.npy"});
    ADD_FAILURE() << "a tensor given twice";
  } catch (const CliError& e) {
    EXPECT_NE(std::string(e.what()).find("'x' is given twice"), std::string::npos) << e.what();
  }
}

TEST(Options, MemoryPoolSizes) {
  EXPECT_EQ(parseMemorySize("16", "--f"), 16u << 20);  // MiB by default, as trtexec
  EXPECT_EQ(parseMemorySize("512K", "--f"), 512u << 10);
  EXPECT_EQ(parseMemorySize("1.5M", "--f"), 3u << 19);
  EXPECT_EQ(parseMemorySize("2G", "--f"), std::size_t{2} << 30);
  for (const char* bad : {"", "M", "-1", "12Q", "abc", "1e400"}) {
    EXPECT_THROW(parseMemorySize(bad, "--f"), CliError) << bad;
  }

  BuildOptions options;
  EXPECT_FALSE(workspaceLimitBytes(options));
  options.workspaceMiB = 2;
  EXPECT_EQ(workspaceLimitBytes(options), std::size_t{2} << 20);
  options.memPoolSize = {"workspace:64K"};
  EXPECT_EQ(workspaceLimitBytes(options), std::size_t{64} << 10);
  options.memPoolSize = {"dlaSRAM:1"};
  EXPECT_THROW(workspaceLimitBytes(options), CliError);
  options.memPoolSize = {"workspace"};
  EXPECT_THROW(workspaceLimitBytes(options), CliError);
}

TEST(NumericConvert, HalfRoundTripsAndRounds) {
  for (float v : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.9604645e-08f}) {
    EXPECT_EQ(halfToFloat(floatToHalf(v)), v) << v;
  }
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00);            // ties to even: rounds up to infinity
  EXPECT_EQ(floatToHalf(1.0f + 1.0f / 2048), 0x3c00);  // halfway, to even
  EXPECT_EQ(floatToHalf(1.0f + 3.0f / 2048), 0x3c02);  // halfway, to even (up)
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(halfToFloat(floatToHalf(std::numeric_limits<float>::infinity())),
            std::numeric_limits<float>::infinity());
  // Every half value survives half -> float -> half.
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const auto h = static_cast<uint16_t>(bits);
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) continue;  // NaN payloads
    ASSERT_EQ(floatToHalf(halfToFloat(h)), h) << std::hex << bits;
  }
}

TEST(NumericConvert, Bfloat16) {
  EXPECT_EQ(floatToBfloat16(1.0f), 0x3f80);
  EXPECT_EQ(bfloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bfloat16ToFloat(floatToBfloat16(-3.5f)), -3.5f);
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(floatToBfloat16(std::nanf("")))));
}

TEST(RandomInputs, FloatsInRangeAndDeterministic) {
  std::vector<std::byte> a(4000), b(4000), c(4000);
  fillRandom(DataType::kFLOAT, a, 1, 1);
  fillRandom(DataType::kFLOAT, b, 1, 1);
  fillRandom(DataType::kFLOAT, c, 1, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<float> values(1000);
  std::memcpy(values.data(), a.data(), a.size());
  float lo = 1, hi = -1;
  for (float v : values) {
    ASSERT_GE(v, -1.0f);
    ASSERT_LT(v, 1.0f);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_LT(lo, -0.9f);
  EXPECT_GT(hi, 0.9f);

  std::vector<std::byte> halves(200);
  fillRandom(DataType::kHALF, halves, 3, 1);
  for (std::size_t i = 0; i < halves.size(); i += 2) {
    uint16_t h = 0;
    std::memcpy(&h, halves.data() + i, 2);
    const float v = halfToFloat(h);
    EXPECT_GE(v, -1.0f);
    EXPECT_LE(v, 1.0f);
  }

  std::vector<std::byte> ints(64, std::byte{7});
  fillRandom(DataType::kINT32, ints, 1, 1);
  EXPECT_EQ(ints, std::vector<std::byte>(64));
}

}  // namespace
}  // namespace kiln::cli
