// kiln_onnx_conformance: runs the ONNX backend node tests through kiln, writes
// docs/onnx-conformance.md (with ONNX Runtime's results beside kiln's), and fails when kiln's pass
// count drops below the stored one.
//
//   kiln_onnx_conformance [--data DIR] [--data-label TEXT] [--report FILE] [--ort-results FILE]
//                         [--pass-count-file FILE] [--jobs N] [--timeout S] [--filter TEXT]
//                         [--no-fork] [--verbose]
//
// Exit status: 0 ok, 1 the pass count dropped, 2 bad usage or unreadable files, 77 no test data
// (ctest reports the test as skipped).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "isolation.h"
#include "kiln_runner.h"
#include "report.h"
#include "test_case.h"

namespace {

using namespace kiln::conformance;

constexpr int kExitDropped = 1;
constexpr int kExitUsage = 2;
constexpr int kExitSkipped = 77;

struct Options {
  std::filesystem::path data = "/usr/share/libonnx-testdata/data/node";
  std::string dataLabel;
  std::filesystem::path report;
  std::filesystem::path ortResults;
  std::filesystem::path passCountFile;
  std::string filter;
  IsolationOptions isolation;
  bool verbose = false;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "kiln_onnx_conformance: " << problem << "\n"
            << "usage: kiln_onnx_conformance [--data DIR] [--data-label TEXT] [--report FILE]\n"
               "         [--ort-results FILE] [--pass-count-file FILE] [--jobs N] [--timeout S]\n"
               "         [--filter TEXT] [--no-fork] [--verbose]\n";
  std::exit(kExitUsage);
}

int toInt(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  usage(flag + " wants a positive number, not '" + text + "'");
}

Options parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(flag + " wants a value");
      return argv[++i];
    };
    if (flag == "--data") {
      o.data = value();
    } else if (flag == "--data-label") {
      o.dataLabel = value();
    } else if (flag == "--report") {
      o.report = value();
    } else if (flag == "--ort-results") {
      o.ortResults = value();
    } else if (flag == "--pass-count-file") {
      o.passCountFile = value();
    } else if (flag == "--jobs") {
      o.isolation.jobs = toInt(flag, value());
    } else if (flag == "--timeout") {
      o.isolation.timeoutSeconds = toInt(flag, value());
    } else if (flag == "--filter") {
      o.filter = value();
    } else if (flag == "--no-fork") {
      o.isolation.fork = false;
    } else if (flag == "--verbose") {
      o.verbose = true;
      o.isolation.quietChildren = false;
    } else {
      usage("unknown option " + flag);
    }
  }
  if (o.dataLabel.empty()) o.dataLabel = o.data.string();
  return o;
}

// The stored count: the first line of the file that is not blank or a '#' comment.
int readPassCount(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open " + path.string());
  std::string line;
  while (std::getline(file, line)) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    return std::stoi(line.substr(start));
  }
  throw std::runtime_error(path.string() + " holds no number");
}

int run(const Options& options) {
  if (!std::filesystem::is_directory(options.data)) {
    std::cout << "ONNX node tests not found at " << options.data.string()
              << " (install Debian's libonnx-testdata): skipped\n";
    return kExitSkipped;
  }
  const auto started = std::chrono::steady_clock::now();
  std::vector<TestCase> tests = discoverTests(options.data);
  std::vector<const TestCase*> selected;
  std::size_t excluded = 0;
  for (const TestCase& test : tests) {
    if (!test.excluded.empty()) {
      ++excluded;
      continue;
    }
    if (!options.filter.empty() && test.name.find(options.filter) == std::string::npos) continue;
    selected.push_back(&test);
  }

  std::map<std::string, Outcome> kiln;
  int counts[4] = {0, 0, 0, 0};
  const Tolerance tolerance;
  runIsolated(
      selected, options.isolation,
      [&](const TestCase& test) { return runKilnTest(test, tolerance); },
      [&](std::size_t index, const Outcome& outcome) {
        const TestCase& test = *selected[index];
        kiln[test.name] = outcome;
        ++counts[static_cast<int>(outcome.status)];
        if (options.verbose || outcome.status == Status::kCrash) {
          std::cout << toString(outcome.status) << "  " << test.name << " (" << test.op << ")"
                    << (outcome.reason.empty() ? "" : ": " + outcome.reason) << "\n"
                    << std::flush;
        }
      });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const int passed = counts[static_cast<int>(Status::kPass)];
  std::printf(
      "kiln passes %d of %zu node tests (%d fail, %d unsupported, %d crash; %zu excluded) in "
      "%.1f s with %d job(s)\n",
      passed, selected.size(), counts[static_cast<int>(Status::kFail)],
      counts[static_cast<int>(Status::kUnsupported)], counts[static_cast<int>(Status::kCrash)],
      excluded, seconds, options.isolation.fork ? options.isolation.jobs : 1);

  if (!options.filter.empty()) {
    if (!options.report.empty() || !options.passCountFile.empty()) {
      std::cout << "--filter given: the report and the pass count are left alone\n";
    }
    return 0;
  }

  if (!options.report.empty()) {
    ReportInput input{options.dataLabel, tests, kiln, std::nullopt, tolerance};
    if (!options.ortResults.empty()) {
      if (std::filesystem::exists(options.ortResults)) {
        input.ort = readOrtResults(options.ortResults);
      } else {
        std::cout << "no ONNX Runtime results at " << options.ortResults.string()
                  << " (make conformance-ort makes them)\n";
      }
    }
    writeFileAtomically(options.report, renderReport(input));
    std::cout << "wrote " << options.report.string() << "\n";
  }

  if (!options.passCountFile.empty()) {
    const int stored = readPassCount(options.passCountFile);
    if (passed < stored) {
      std::cout << "FAILED: kiln's pass count dropped from " << stored << " to " << passed
                << ". `git diff docs/onnx-conformance.md` shows the ops that changed; "
                   "--filter test_OP --verbose lists each of their tests' results.\n";
      return kExitDropped;
    }
    if (passed > stored) {
      std::cout << "kiln now passes " << passed << " tests, more than the stored " << stored
                << ": raise " << options.passCountFile.string() << " to " << passed
                << " so the gain is kept.\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parseOptions(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "kiln_onnx_conformance: " << e.what() << "\n";
    return kExitUsage;
  }
}
