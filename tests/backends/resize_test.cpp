// Resize on the CPU: the nearest tactic (cpu.resize.nearest) against the reference kernel over
// integer and fractional scales, downsampling, output sizes, every coordinate transformation
// and rounding that nearest takes, ranks 3 to 5; the nodes it leaves to the reference (linear
// mode, resized leading dimensions, scales computed at run time).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tactic_check.h"

namespace kiln::test {
namespace {

using CT = ResizeCoordinateTransformation;

ir::Attributes nearest(std::vector<double> scales, CT transform, ResizeRoundMode rounding) {
  ir::Attributes a;
  a.set("mode", InterpolationMode::kNEAREST);
  a.set("coordinate_transformation", transform);
  a.set("nearest_rounding", rounding);
  a.set("scales", std::move(scales));
  return a;
}

TEST(ResizeTactics, NearestMatchesTheReference) {
  const CT transforms[] = {CT::kASYMMETRIC,           CT::kHALF_PIXEL,
                           CT::kALIGN_CORNERS,        CT::kPYTORCH_HALF_PIXEL,
                           CT::kTF_HALF_PIXEL_FOR_NN, CT::kHALF_PIXEL_SYMMETRIC};
  const ResizeRoundMode roundings[] = {ResizeRoundMode::kFLOOR, ResizeRoundMode::kCEIL,
                                       ResizeRoundMode::kROUND_PREFER_FLOOR,
                                       ResizeRoundMode::kROUND_PREFER_CEIL};
  struct Case {
    Dims in;
    std::vector<double> scales;
  };
  const Case cases[] = {
      {shape({1, 3, 5, 7}), {1, 1, 2, 2}},        // the FPN's 2x
      {shape({2, 2, 3, 4}), {1, 1, 8, 4}},        // PaddleOCR's 8x and 4x, batch 2
      {shape({1, 4, 9, 10}), {1, 1, 0.5, 0.5}},   // downsampling
      {shape({1, 2, 4, 6}), {1, 1, 1.5, 2.5}},    // fractional
      {shape({3, 6, 5}), {1, 3, 2}},              // rank 3
      {shape({1, 2, 2, 3, 4}), {1, 1, 1, 2, 3}},  // rank 5, an unresized third dimension
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    for (const CT transform : transforms) {
      for (const ResizeRoundMode rounding : roundings) {
        // tf_half_pixel_for_nn rounding up moves even an unscaled dimension by one (x + 0.5
        // rounds to x + 1, clamped): the batch and channels no longer map one to one, which the
        // tactic leaves to the reference.
        const bool shifted =
            transform == CT::kTF_HALF_PIXEL_FOR_NN &&
            (rounding == ResizeRoundMode::kCEIL || rounding == ResizeRoundMode::kROUND_PREFER_CEIL);
        const auto r = checkTactics("Resize", nearest(c.scales, transform, rounding),
                                    {randomInput(c.in, seed++)});
        EXPECT_EQ(r.tactics, shifted ? 0 : 1)
            << toString(c.in) << " transform " << static_cast<int>(transform) << " rounding "
            << static_cast<int>(rounding);
      }
    }
  }
  // Output dimensions instead of scales.
  ir::Attributes sized;
  sized.set("mode", InterpolationMode::kNEAREST);
  sized.set("output_dims", shape({1, 2, 7, 3}));
  EXPECT_EQ(checkTactics("Resize", sized, {randomInput(shape({1, 2, 4, 5}), 90)}).tactics, 1);
}

TEST(ResizeTactics, OtherResizesStayWithTheReference) {
  // Linear mode.
  ir::Attributes linear = nearest({1, 1, 2, 2}, CT::kHALF_PIXEL, ResizeRoundMode::kFLOOR);
  linear.set("mode", InterpolationMode::kLINEAR);
  EXPECT_EQ(checkTactics("Resize", linear, {randomInput(shape({1, 2, 3, 3}), 91)}).tactics, 0);
  // A resized leading dimension.
  EXPECT_EQ(checkTactics("Resize", nearest({2, 1, 1, 2}, CT::kASYMMETRIC, ResizeRoundMode::kFLOOR),
                         {randomInput(shape({2, 2, 3, 3}), 92)})
                .tactics,
            0);
  // Scales as an input (a constant here; the tactic leaves any input but the data alone).
  ir::Attributes a;
  a.set("mode", InterpolationMode::kNEAREST);
  const CheckInput scales{shape({4}), {1.f, 1.f, 2.f, 2.f}, true, true};
  EXPECT_EQ(checkTactics("Resize", a, {randomInput(shape({1, 2, 3, 3}), 93), scales}).tactics, 0);
}

}  // namespace
}  // namespace kiln::test
