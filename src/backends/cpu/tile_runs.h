// Runs of pixels cut into register tiles whose pixel count is a template argument: the blocked
// kernels (NCHW8c) walk a run a tile at a time and need each tile's size at compile time.
#pragma once

#include <cstdint>
#include <type_traits>

namespace kiln::backends::cpu {

//! Calls @p f(std::integral_constant<int, n>{}) for the run-time @p n in [1, N].
template <int N, typename F>
void withTileSize(int64_t n, F&& f) {
  if constexpr (N > 0) {
    if (n == N) {
      f(std::integral_constant<int, N>{});
      return;
    }
    withTileSize<N - 1>(n, f);
  }
}

//! Calls @p tile(std::integral_constant<int, size>{}, first) for tiles covering pixels
//! [0, @p pixels) in order: whole tiles of T, then the rest as one tile. A rest of one pixel
//! after a whole tile goes with it as two tiles of about half (7 = 3 + 4 for T = 6): a 1-pixel
//! tile loads as many weight vectors as it does multiply-adds (ResNet's 7x7 layers: 49 pixels).
template <int T, typename Tile>
void forEachTile(int64_t pixels, Tile&& tile) {
  int64_t whole = pixels / T;
  int64_t rest = pixels % T;
  const bool split = rest == 1 && whole > 0;
  if (split) --whole;
  int64_t p = 0;
  for (int64_t i = 0; i < whole; ++i, p += T) tile(std::integral_constant<int, T>{}, p);
  if (split) {
    constexpr int kFirst = (T + 1) / 2;
    tile(std::integral_constant<int, kFirst>{}, p);
    tile(std::integral_constant<int, T + 1 - kFirst>{}, p + kFirst);
    return;
  }
  withTileSize<T - 1>(rest, [&](auto size) { tile(size, p); });
}

}  // namespace kiln::backends::cpu
