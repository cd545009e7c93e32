// Runs the built `kiln` command from a test: directly (no shell), so that a crash shows as a
// signal rather than an exit code, with stdout and stderr captured through files.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace kiln::test {

struct CommandResult {
  int exitCode = -1;
  int signal = 0;  //!< the signal that ended the run, 0 when it exited
  std::string out;
  std::string err;
};

inline std::string readText(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

//! Runs `kiln ARGS...`; its output goes through stdout.txt and stderr.txt in @p scratch.
inline CommandResult runKiln(const std::vector<std::string>& args,
                             const std::filesystem::path& scratch) {
  const std::filesystem::path outFile = scratch / "stdout.txt";
  const std::filesystem::path errFile = scratch / "stderr.txt";
  std::vector<std::string> argv = {KILN_BINARY_DIR "/bin/kiln"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (std::string& a : argv) pointers.push_back(a.data());
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  CommandResult result;
  if (spawned != 0) {
    ADD_FAILURE() << "cannot run " << argv[0] << ": " << std::strerror(spawned);
    return result;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exitCode = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.out = readText(outFile);
  result.err = readText(errFile);
  return result;
}

}  // namespace kiln::test
