#include "runtime/device_constants.h"

namespace kiln::detail {

void* DeviceConstants::locate(const ir::Value& value) {
  if (value.absorbed) return nullptr;  // no kernel reads it (prepared weights hold it)
  auto* host = const_cast<std::byte*>(value.constant->data());
  if (device_.type() == DeviceType::kCPU) return host;
  const std::lock_guard lock(mutex_);
  auto it = uploads_.find(value.constant.get());
  if (it == uploads_.end()) {
    const std::size_t bytes = value.constant->size();
    backends::DeviceBuffer buffer(device_, std::max<std::size_t>(bytes, 1));
    device_.copyAsync(buffer.data(), host, bytes, backends::CopyKind::kHostToDevice, nullptr);
    device_.synchronize(nullptr);
    deviceBytes_ += bytes;
    it = uploads_.emplace(value.constant.get(), Upload{value.constant, std::move(buffer)}).first;
  }
  return it->second.buffer.data();
}

std::size_t DeviceConstants::deviceBytes() const {
  const std::lock_guard lock(mutex_);
  return deviceBytes_;
}

}  // namespace kiln::detail
