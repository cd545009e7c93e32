// LeNet-5 built layer by layer through the kiln API — the network of TensorRT's sampleMNISTAPI
// (conv 20 5x5 -> max pool 2x2 -> conv 50 5x5 -> max pool 2x2 -> fc 500 -> relu -> fc 10 ->
// softmax). The weights are deterministic random numbers (no trained weights ship with kiln).
//
//   lenet_api [--saveEngine=lenet.plan]
//
// Builds the engine, serializes it, loads the plan back, runs a synthetic digit through both
// engines and checks that the outputs are bit-identical and form a probability distribution.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/kiln.h"

namespace {

// Uniform in +-1/sqrt(fanIn), for a tensor of extents @p shape.
std::vector<float> randomWeights(std::initializer_list<std::size_t> shape, std::size_t fanIn,
                                 std::mt19937& rng) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(fanIn));
  std::uniform_real_distribution<float> dist(-bound, bound);
  std::size_t count = 1;
  for (std::size_t extent : shape) count *= extent;
  std::vector<float> values(count);
  for (auto& v : values) v = dist(rng);
  return values;
}

kiln::Weights weights(const std::vector<float>& values) {
  return {kiln::DataType::kFLOAT, values.data(), static_cast<int64_t>(values.size())};
}

// All weight buffers of the network; the network copies them when layers are added.
struct LeNetWeights {
  std::mt19937 rng{2024};
  std::vector<float> conv1 = randomWeights({20, 1, 5, 5}, 25, rng);
  std::vector<float> conv1Bias = randomWeights({20}, 25, rng);
  std::vector<float> conv2 = randomWeights({50, 20, 5, 5}, 500, rng);
  std::vector<float> conv2Bias = randomWeights({50}, 500, rng);
  std::vector<float> fc1 = randomWeights({500, 800}, 800, rng);
  std::vector<float> fc1Bias = randomWeights({500}, 800, rng);
  std::vector<float> fc2 = randomWeights({10, 500}, 500, rng);
  std::vector<float> fc2Bias = randomWeights({10}, 500, rng);
};

bool defineLeNet(kiln::NetworkDefinition& network, const LeNetWeights& w) {
  using namespace kiln;
  Tensor data = network.addInput("data", DataType::kFLOAT, Dims{1, 1, 28, 28});
  auto conv1 = network.addConvolution(data, 20, Dims{5, 5}, weights(w.conv1), weights(w.conv1Bias));
  if (!conv1) return false;
  conv1.setStride(Dims{1, 1});
  auto pool1 = network.addPooling(conv1.output(0), PoolingType::kMAX, Dims{2, 2});
  if (!pool1) return false;
  pool1.setStride(Dims{2, 2});
  auto conv2 = network.addConvolution(pool1.output(0), 50, Dims{5, 5}, weights(w.conv2),
                                      weights(w.conv2Bias));
  if (!conv2) return false;
  auto pool2 = network.addPooling(conv2.output(0), PoolingType::kMAX, Dims{2, 2});
  if (!pool2) return false;
  pool2.setStride(Dims{2, 2});
  auto fc1 = network.addFullyConnected(pool2.output(0), 500, weights(w.fc1), weights(w.fc1Bias));
  if (!fc1) return false;
  auto relu = network.addActivation(fc1.output(0), ActivationType::kRELU);
  if (!relu) return false;
  auto fc2 = network.addFullyConnected(relu.output(0), 10, weights(w.fc2), weights(w.fc2Bias));
  if (!fc2) return false;
  auto prob = network.addSoftMax(fc2.output(0));
  if (!prob) return false;
  prob.output(0).setName("prob");
  return network.markOutput(prob.output(0));
}

// A "7"-like stroke on a 28x28 canvas, normalized like the MNIST samples.
std::vector<float> syntheticDigit() {
  std::vector<float> image(std::size_t{28} * 28, 0.0f);
  for (int x = 6; x < 22; ++x) image[6 * 28 + x] = 1.0f;
  for (int y = 6; y < 23; ++y) image[y * 28 + (21 - (y - 6) / 2)] = 1.0f;
  return image;
}

std::vector<float> infer(kiln::Engine& engine, const std::vector<float>& image) {
  auto context = engine.createExecutionContext();
  std::vector<float> prob(10, 0.0f);
  if (!context || !context->setInputTensorAddress("data", image.data()) ||
      !context->setTensorAddress("prob", prob.data()) || !context->enqueueV3()) {
    return {};
  }
  return prob;
}

}  // namespace

int main(int argc, char** argv) {
  std::string savePath;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("--saveEngine=", 0) == 0) {
      savePath = std::string(arg.substr(13));
    } else {
      std::fprintf(stderr, "usage: lenet_api [--saveEngine=FILE]\nunknown argument: %s\n", argv[i]);
      return 1;
    }
  }

  kiln::ConsoleLogger logger(kiln::Severity::kWARNING);
  kiln::Builder builder(logger);
  auto network = builder.createNetwork();
  const LeNetWeights weightValues;
  if (!defineLeNet(*network, weightValues)) return 1;
  auto config = builder.createBuilderConfig();
  // This sample binds host buffers, so it builds a CPU engine even where a GPU is present (a
  // GPU engine reads device memory: see `kiln exec --device=cuda`).
  config->setDeviceType(kiln::DeviceType::kCPU);
  const std::vector<std::byte> plan = builder.buildSerializedNetwork(*network, *config);
  if (plan.empty()) return 1;
  std::printf("[I] built LeNet-5: %d layers in the network, plan of %zu bytes\n",
              network->nbLayers(), plan.size());

  if (!savePath.empty()) {
    std::ofstream out(savePath, std::ios::binary);
    out.write(reinterpret_cast<const char*>(plan.data()),
              static_cast<std::streamsize>(plan.size()));
    if (!out) {
      std::fprintf(stderr, "[E] cannot write %s\n", savePath.c_str());
      return 1;
    }
    std::printf("[I] saved the engine to %s\n", savePath.c_str());
  }

  kiln::Runtime runtime(logger);
  auto engine = runtime.deserialize(plan);
  if (!engine) return 1;
  auto direct = builder.buildEngine(*network, *config);
  if (!direct) return 1;
  const auto image = syntheticDigit();
  const auto fromPlan = infer(*engine, image);
  const auto fromBuilder = infer(*direct, image);
  if (fromPlan.empty() || fromPlan != fromBuilder) {
    std::fprintf(stderr, "[E] the reloaded plan does not reproduce the built engine\n");
    return 1;
  }
  float sum = 0.0f;
  int best = 0;
  for (int i = 0; i < 10; ++i) {
    sum += fromPlan[static_cast<std::size_t>(i)];
    if (fromPlan[static_cast<std::size_t>(i)] > fromPlan[static_cast<std::size_t>(best)]) best = i;
  }
  std::printf("[I] reloaded plan reproduces the built engine bit for bit\n");
  std::printf(
      "[I] output 'prob' sums to %.6f; class %d has the highest score (%.4f) — the "
      "weights are random, so the class means nothing\n",
      static_cast<double>(sum), best,
      static_cast<double>(fromPlan[static_cast<std::size_t>(best)]));
  return std::fabs(sum - 1.0f) < 1e-4f ? 0 : 1;
}
