// Interpolation weights shared by Resize and GridSample.
#pragma once

#include <array>

namespace kiln::ops {

//! Cubic convolution (Keys) weights of the four taps floor(x) - 1 .. floor(x) + 2 for a sample at
//! floor(x) + @p t, t in [0, 1], with coefficient @p a (-0.75 as PyTorch, -0.5 as TensorFlow).
template <typename T>
std::array<T, 4> cubicCoefficients(T t, T a) {
  // Keys' kernel: |s| <= 1 and 1 < |s| < 2.
  auto near = [a](T s) { return ((a + 2) * s - (a + 3)) * s * s + 1; };
  auto far = [a](T s) { return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a; };
  return {far(t + 1), near(t), near(1 - t), far((1 - t) + 1)};
}

}  // namespace kiln::ops
