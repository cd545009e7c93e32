// Reduce over the innermost dimensions (cpu.reduce.inner*, global average pooling as ONNX models
// import it) against the reference kernel: SUM and AVG, kept and dropped dims, row lengths around
// the 16- and 64-float steps, one row, empty rows and batches; and the nodes it must leave alone.
#include <gtest/gtest.h>

#include "backends/tactic.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

ir::Attributes reduceAttrs(ReduceOperation op, int64_t axes, bool keep) {
  ir::Attributes a;
  a.set("op", op);
  a.set("axes", axes);
  a.set("keep_dims", int64_t{keep ? 1 : 0});
  return a;
}

TEST(ReduceTactics, InnerSumAndMean) {
  struct Case {
    Dims x;
    int64_t axes;
  };
  const Case cases[] = {
      {shape({1, 40, 7, 7}), 0b1100}, {shape({2, 17, 13, 13}), 0b1100},
      {shape({1, 9, 8, 8}), 0b1100},  {shape({3, 5, 130}), 0b100},
      {shape({4, 5, 6}), 0b110},      {shape({2, 70}), 0b11},
      {shape({1, 3, 1, 1}), 0b1100},  {shape({1, 2000, 3, 3}), 0b1100},
      {shape({0, 4, 5, 5}), 0b1100},  {shape({64}), 0b1},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    for (auto op : {ReduceOperation::kAVG, ReduceOperation::kSUM}) {
      for (bool keep : {true, false}) {
        SCOPED_TRACE(toString(c.x));
        const auto r =
            checkTactics("Reduce", reduceAttrs(op, c.axes, keep), {randomInput(c.x, seed++)});
        EXPECT_GE(r.tactics, 1);
      }
    }
  }
}

// Outer axes, MAX, and PROD stay with the reference (checkTactics then compares none).
TEST(ReduceTactics, LeavesOtherReductions) {
  const Dims x = shape({2, 3, 4, 5});
  EXPECT_EQ(
      checkTactics("Reduce", reduceAttrs(ReduceOperation::kAVG, 0b0110, true), {randomInput(x, 3)})
          .tactics,
      0);
  EXPECT_EQ(
      checkTactics("Reduce", reduceAttrs(ReduceOperation::kMAX, 0b1100, true), {randomInput(x, 4)})
          .tactics,
      0);
  EXPECT_EQ(checkTactics("Reduce", reduceAttrs(ReduceOperation::kPROD, 0b1000, false),
                         {randomInput(x, 5)})
                .tactics,
            0);
}

}  // namespace
}  // namespace kiln::test
