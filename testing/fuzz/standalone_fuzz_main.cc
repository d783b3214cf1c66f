// A main() for fuzz targets built without libFuzzer (every configuration
// but --config=fuzz): runs LLVMFuzzerTestOneInput once per file named on the
// command line, or per file in each directory named. This is how the seed
// corpora and every crash input found so far run as regression tests.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int RunFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::string path = argv[i];
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      std::fprintf(stderr, "no such input: %s\n", path.c_str());
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (RunFile(path) != 0) return 1;
      ++inputs;
      continue;
    }
    DIR* dir = opendir(path.c_str());
    if (dir == nullptr) return 1;
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (RunFile(path + "/" + name) != 0) return 1;
      ++inputs;
    }
    closedir(dir);
  }
  std::printf("ran %d inputs\n", inputs);
  return inputs > 0 ? 0 : 1;
}
