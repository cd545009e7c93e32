#include "backends/cpu/depthwise.h"

namespace kiln::backends::cpu {

namespace {
#include "backends/cpu/depthwise_kernel.inc"
}  // namespace

int64_t depthwiseScratchFloats(const DepthwisePlane& p) {
  const int64_t hp = p.oh > 0 ? (p.oh - 1) * p.sh + (p.kh - 1) * p.dh + 1 : 0;
  const int64_t wp = p.ow > 0 ? (p.ow - 1) * p.sw + (p.kw - 1) * p.dw + 1 : 0;
  // Rows of up to 16 floats past the window's reach plus 16: room for the AVX2 3x3 kernel's
  // padded plane (rows of whole vectors, stride 2 split into even and odd halves).
  return hp * ((wp + 15) / 16 * 16 + 16) + kDepthwiseSlack;
}

DepthwisePlane depthwisePlaneOf(const Window2d& c, const DepthwiseTensors& t, int64_t plane,
                                VecAct act, const GemmEpilogue& e) {
  const int64_t channel = plane % c.channels;
  const int64_t outPlane = c.oh * c.ow;
  DepthwisePlane p;
  p.x = t.x + plane * c.ih * c.iw;
  p.w = t.w + channel * c.kh * c.kw;
  p.bias = t.bias != nullptr ? t.bias[channel] : 0.f;
  p.residual = t.residual != nullptr ? t.residual + plane * outPlane : nullptr;
  p.y = t.y + plane * outPlane;
  p.ih = c.ih;
  p.iw = c.iw;
  p.oh = c.oh;
  p.ow = c.ow;
  p.kh = c.kh;
  p.kw = c.kw;
  p.sh = c.sh;
  p.sw = c.sw;
  p.dh = c.dh;
  p.dw = c.dw;
  p.ph = c.ph;
  p.pw = c.pw;
  p.act = act;
  p.alpha = e.alpha;
  p.beta = e.beta;
  return p;
}

DepthwiseFn portableDepthwise() {
  return depthwisePlane;
}

}  // namespace kiln::backends::cpu
