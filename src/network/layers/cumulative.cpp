// CumulativeLayer and NetworkDefinition::addCumulative.
#include "network/network_impl.h"

namespace kiln {

CumulativeLayer NetworkDefinition::addCumulative(Tensor input, Tensor axis, CumulativeOperation op,
                                                 bool exclusive, bool reverse) {
  return impl_->guarded<CumulativeLayer>("addCumulative", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto a = net.valueOf(axis, "axis");
    if (op != CumulativeOperation::kSUM) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown cumulative operation ", static_cast<int32_t>(op));
    }
    const auto id = net.addLayer(LayerType::kCUMULATIVE, {x, a}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("operation", op);
    attrs.set("exclusive", exclusive);
    attrs.set("reverse", reverse);
    net.inferLayer(id);
    return id;
  });
}

void CumulativeLayer::setOperation(CumulativeOperation op) {
  detail::setAttr(*this, "CumulativeLayer::setOperation", "operation", op);
}

CumulativeOperation CumulativeLayer::operation() const {
  return detail::getEnumAttr(*this, "CumulativeLayer::operation", "operation",
                             CumulativeOperation::kSUM);
}

void CumulativeLayer::setExclusive(bool exclusive) {
  detail::setAttr(*this, "CumulativeLayer::setExclusive", "exclusive", exclusive);
}

bool CumulativeLayer::exclusive() const {
  return detail::getIntAttr(*this, "CumulativeLayer::exclusive", "exclusive", 0) != 0;
}

void CumulativeLayer::setReverse(bool reverse) {
  detail::setAttr(*this, "CumulativeLayer::setReverse", "reverse", reverse);
}

bool CumulativeLayer::reverse() const {
  return detail::getIntAttr(*this, "CumulativeLayer::reverse", "reverse", 0) != 0;
}

}  // namespace kiln
