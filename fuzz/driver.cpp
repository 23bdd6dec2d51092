// fuzz: the standalone driver the normal (GCC) build links each target with, so every target runs
// in CTest without libFuzzer. It runs every seed file, then simple random mutations of the seeds
// (byte flips, inserts, deletes, splices) for a bounded time and count, from a fixed seed, so a
// run is repeatable. A crash aborts the test; the input that caused it is written out first.
//
//   <target> [--seconds S] [--runs N] [--seed X] [--max-len N] <corpus dir or file>...
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace {

namespace fs = std::filesystem;
using Input = std::vector<std::uint8_t>;

std::string current_name;  // what the current input is, for the crash report
Input current;

// On a fatal signal: the input goes to fuzz-driver-crash.bin (to become a regression seed), then
// the signal takes its course.
void on_fatal(int sig) {
  const char* path = "fuzz-driver-crash.bin";
  if (FILE* f = std::fopen(path, "wb")) {
    if (!current.empty()) std::fwrite(current.data(), 1, current.size(), f);
    std::fclose(f);
  }
  std::fprintf(stderr, "fuzz driver: failed on %s (%zu bytes, written to %s)\n", current_name.c_str(),
               current.size(), path);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run(const Input& in, const std::string& name) {
  current = in;
  current_name = name;
  // A copy of exactly the input's size, so that reading past the end is caught by the sanitizers.
  auto* buf = static_cast<std::uint8_t*>(std::malloc(in.empty() ? 1 : in.size()));
  if (!in.empty()) std::memcpy(buf, in.data(), in.size());
  LLVMFuzzerTestOneInput(buf, in.size());
  std::free(buf);
}

Input read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Input(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

Input mutate(const std::vector<Input>& seeds, std::mt19937_64& rng, std::size_t max_len) {
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  Input in = seeds[pick(seeds.size())];
  const int steps = 1 + static_cast<int>(pick(4));
  for (int s = 0; s < steps; ++s) {
    switch (pick(5)) {
      case 0:  // flip a bit
        if (!in.empty()) in[pick(in.size())] ^= static_cast<std::uint8_t>(1u << pick(8));
        break;
      case 1: {  // insert a few random or interesting bytes
        static const char kInteresting[] = "\r\n:{}[]\"\\0-#$%&'*,./;=?@^_`|~ \t\xff\x80";
        const std::size_t n = 1 + pick(4);
        for (std::size_t i = 0; i < n; ++i) {
          const auto b = pick(2) ? static_cast<std::uint8_t>(rng())
                                 : static_cast<std::uint8_t>(kInteresting[pick(sizeof kInteresting - 1)]);
          in.insert(in.begin() + static_cast<std::ptrdiff_t>(pick(in.size() + 1)), b);
        }
        break;
      }
      case 2:  // delete a range
        if (!in.empty()) {
          const std::size_t at = pick(in.size());
          const std::size_t n = 1 + pick(std::min<std::size_t>(16, in.size() - at));
          in.erase(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + n));
        }
        break;
      case 3: {  // splice: a piece of another seed inserted here
        const Input& other = seeds[pick(seeds.size())];
        if (other.empty()) break;
        const std::size_t from = pick(other.size());
        const std::size_t n = 1 + pick(other.size() - from);
        in.insert(in.begin() + static_cast<std::ptrdiff_t>(pick(in.size() + 1)),
                  other.begin() + static_cast<std::ptrdiff_t>(from),
                  other.begin() + static_cast<std::ptrdiff_t>(from + n));
        break;
      }
      default:  // overwrite a byte with a random one
        if (!in.empty()) in[pick(in.size())] = static_cast<std::uint8_t>(rng());
        break;
    }
  }
  if (in.size() > max_len) in.resize(max_len);
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  double seconds = 2;
  long runs = 100000;
  std::uint64_t seed = 1;
  std::size_t max_len = 64 * 1024;
  std::vector<fs::path> paths;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fuzz driver: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") {
      seconds = std::stod(value());
    } else if (a == "--runs") {
      runs = std::stol(value());
    } else if (a == "--seed") {
      seed = std::stoull(value());
    } else if (a == "--max-len") {
      max_len = std::stoul(value());
    } else {
      paths.emplace_back(a);
    }
  }

  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_fatal);
  std::vector<Input> seeds;
  for (const auto& p : paths) {
    std::vector<fs::path> files;
    if (fs::is_directory(p)) {
      for (const auto& e : fs::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(p);
    }
    for (const auto& f : files) {
      seeds.push_back(read_file(f));
      run(seeds.back(), f.string());
    }
  }
  if (seeds.empty()) seeds.emplace_back();
  const std::size_t seed_count = seeds.size();

  std::mt19937_64 rng(seed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  long done = 0;
  for (; done < runs && std::chrono::steady_clock::now() < deadline; ++done) {
    Input in = mutate(seeds, rng, max_len);
    run(in, "mutation " + std::to_string(done) + " (seed " + std::to_string(seed) + ")");
  }
  std::printf("fuzz driver: %zu seed inputs, %ld mutations, no failure\n", seed_count, done);
  return 0;
}
