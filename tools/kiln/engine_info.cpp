#include "engine_info.h"

#include <cstdio>
#include <ostream>
#include <string>

namespace kiln::cli {
namespace {

std::string_view deviceName(DeviceType device) {
  return device == DeviceType::kGPU ? "GPU" : "CPU";
}

void printTensors(std::ostream& out, const Engine& engine, TensorIOMode mode, const char* label) {
  int32_t count = 0;
  for (int32_t i = 0; i < engine.nbIOTensors(); ++i) {
    if (engine.tensorIOMode(engine.ioTensorName(i)) == mode) ++count;
  }
  out << "[I] " << label << "s: " << count << "\n";
  for (int32_t i = 0; i < engine.nbIOTensors(); ++i) {
    const std::string_view name = engine.ioTensorName(i);
    if (engine.tensorIOMode(name) != mode) continue;
    out << "[I]   " << label << " '" << name << "': " << toString(engine.tensorDataType(name))
        << " " << toString(engine.tensorShape(name)) << "\n";
  }
}

}  // namespace

void printEngineInfo(std::ostream& out, const Engine& engine, const EngineSource& source) {
  const std::size_t memory = engine.deviceMemorySize();
  out << "[I] === Engine ===\n";
  out << "[I] Source: " << source.description;
  if (source.planBytes > 0) out << " (" << source.planBytes << " bytes)";
  out << "\n";
  out << "[I] Device: " << deviceName(engine.deviceType()) << "\n";
  printTensors(out, engine, TensorIOMode::kINPUT, "Input");
  printTensors(out, engine, TensorIOMode::kOUTPUT, "Output");
  out << "[I] Layers: " << engine.nbLayers() << "\n";
  char mib[32];
  std::snprintf(mib, sizeof(mib), "%.2f", static_cast<double>(memory) / (1024.0 * 1024.0));
  out << "[I] Activation memory: " << memory << " bytes (" << mib << " MiB)\n";
}

}  // namespace kiln::cli
