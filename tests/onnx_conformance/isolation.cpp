#include "isolation.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

namespace kiln::conformance {
namespace {

using Clock = std::chrono::steady_clock;

struct Child {
  std::size_t index = 0;
  pid_t pid = -1;
  int fd = -1;  // read end of the pipe the child writes its outcome to
  Clock::time_point start;
  bool timedOut = false;
  std::string output;
};

// The outcome travels as "status\nreason".
std::string encode(const Outcome& outcome) {
  return std::string(toString(outcome.status)) + "\n" + outcome.reason;
}

bool decode(const std::string& text, Outcome& outcome) {
  const auto newline = text.find('\n');
  if (newline == std::string::npos) return false;
  outcome.status = statusFromString(text.substr(0, newline));
  outcome.reason = text.substr(newline + 1);
  return true;
}

void writeAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void childMain(const TestCase& test, int fd, const IsolationOptions& options,
                            const std::function<Outcome(const TestCase&)>& run) {
  if (options.quietChildren) {
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
      ::close(null);
    }
  }
  const Outcome outcome = run(test);
  writeAll(fd, encode(outcome));
  ::close(fd);
  // _exit: the parent's atexit handlers and buffered streams are not the child's to run.
  ::_exit(0);
}

Child startChild(std::size_t index, const TestCase& test, const IsolationOptions& options,
                 const std::function<Outcome(const TestCase&)>& run) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    childMain(test, fds[1], options, run);
  }
  ::close(fds[1]);
  return Child{index, pid, fds[0], Clock::now(), false, {}};
}

Outcome finish(Child& child, const IsolationOptions& options) {
  ::close(child.fd);
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (child.timedOut) {
    return {Status::kCrash,
            "timed out after " + std::to_string(options.timeoutSeconds) + " s (killed)"};
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = ::sigdescr_np(sig);
    return {Status::kCrash, "killed by signal " + std::to_string(sig) + " (" +
                                (name != nullptr ? name : "unknown") + ")"};
  }
  Outcome outcome;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && decode(child.output, outcome)) {
    return outcome;
  }
  return {Status::kCrash, "exited with status " + std::to_string(WEXITSTATUS(status)) +
                              " before reporting a result"};
}

}  // namespace

void runIsolated(const std::vector<const TestCase*>& tests, const IsolationOptions& options,
                 const std::function<Outcome(const TestCase&)>& run,
                 const std::function<void(std::size_t, const Outcome&)>& done) {
  if (!options.fork) {
    for (std::size_t i = 0; i < tests.size(); ++i) done(i, run(*tests[i]));
    return;
  }
  const std::size_t jobs = static_cast<std::size_t>(std::max(options.jobs, 1));
  std::vector<Child> running;
  std::size_t next = 0;
  while (next < tests.size() || !running.empty()) {
    while (running.size() < jobs && next < tests.size()) {
      running.push_back(startChild(next, *tests[next], options, run));
      ++next;
    }
    std::vector<pollfd> fds;
    for (const Child& child : running) fds.push_back({child.fd, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 50);

    const auto now = Clock::now();
    for (std::size_t i = 0; i < running.size();) {
      Child& child = running[i];
      bool ended = false;
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        char buffer[4096];
        const ssize_t n = ::read(child.fd, buffer, sizeof buffer);
        if (n > 0) {
          child.output.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          ended = true;
        }
      }
      if (!ended && !child.timedOut &&
          now - child.start > std::chrono::seconds(options.timeoutSeconds)) {
        ::kill(child.pid, SIGKILL);
        child.timedOut = true;
      }
      if (ended) {
        const Outcome outcome = finish(child, options);
        done(child.index, outcome);
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }
}

}  // namespace kiln::conformance
