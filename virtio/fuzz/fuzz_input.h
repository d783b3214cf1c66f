// FuzzInput: reads a fuzzer's input as a stream of little-endian integers,
// for the virtio fuzz targets, whose inputs are sequences of fixed-size
// operation records (see each target's file comment and make_seeds.py).
//
// Reading past the end yields zeros, so every input, however short, decodes
// to a well-defined operation sequence; a target stops when done() says the
// input is used up.
//
// Example:
//   FuzzInput in(data, size);
//   while (!in.done()) {
//     switch (in.Byte() % 3) { ... in.U16() ... }
//   }
#ifndef HV_VIRTIO_FUZZ_FUZZ_INPUT_H_
#define HV_VIRTIO_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace hv::virtio {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  // Whether every byte has been read.
  bool done() const { return pos_ >= size_; }

  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() {
    const uint16_t low = Byte();
    return static_cast<uint16_t>(low | (uint16_t{Byte()} << 8));
  }
  uint32_t U32() {
    const uint32_t low = U16();
    return low | (uint32_t{U16()} << 16);
  }

 private:
  const uint8_t* const data_;
  const size_t size_;
  size_t pos_ = 0;
};

// RunFuzzInput<Run>(): a virtio fuzz target's whole libFuzzer entry point:
// `Run`, made from the input, executes its operation records.
template <typename Run>
int RunFuzzInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  Run run(in);
  run.Execute();
  return 0;
}

// FuzzRuleBroken(): reports which rule `fuzzer` saw broken, and how, then
// aborts so libFuzzer saves the input.
[[noreturn]] inline void FuzzRuleBroken(const char* fuzzer, const char* rule,
                                        const std::string& detail) {
  std::fprintf(stderr, "%s: rule broken: %s\n  %s\n", fuzzer, rule,
               detail.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace hv::virtio

#endif  // HV_VIRTIO_FUZZ_FUZZ_INPUT_H_
