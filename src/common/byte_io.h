// Explicit little-endian encoding and bounded byte sources, for file formats.
// ByteWriter appends to a string; ByteSource reads from a file or a memory buffer and keeps a
// running CRC-32C of what it has read. Not synchronised.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/crc32.h"
#include "fastintent/status.h"

namespace fastintent {

// Appends little-endian values to a byte string.
class ByteWriter {
 public:
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(char((v >> (8 * i)) & 0xFF));
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(char((v >> (8 * i)) & 0xFF));
  }
  void F32(float f) {
    uint32_t v;
    std::memcpy(&v, &f, 4);
    U32(v);
  }
  void F32s(const float* f, size_t n) {
    for (size_t i = 0; i < n; ++i) F32(f[i]);
  }
  void Bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void Str(const std::string& s) {
    U32(uint32_t(s.size()));
    out_.append(s);
  }
  std::string& data() { return out_; }

 private:
  std::string out_;
};

// A source of bytes with a running checksum. `name` is used in error messages.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads exactly n bytes or fails with DataLoss("<name>: truncated ...").
  Status Read(void* dst, size_t n, const char* what);
  // Little-endian u32, u64 and n f32 values (Read's errors; `what` names the field).
  Status U32(uint32_t* v, const char* what);
  Status U64(uint64_t* v, const char* what);
  Status F32s(float* dst, size_t n, const char* what);
  // Reads a length-prefixed string of at most max_len bytes.
  Status Str(std::string* s, size_t max_len, const char* what);
  // CRC-32C of the bytes read since the last ResetCrc() (each section's checksum).
  void ResetCrc() { crc_ = 0; }
  uint32_t crc() const { return crc_; }
  const std::string& name() const { return name_; }
  uint64_t position() const { return pos_; }
  // True when no byte is left.
  virtual bool AtEnd() = 0;
  // Bytes left to read, as far as the source knows (an upper bound for files that may change).
  virtual uint64_t Remaining() const = 0;

 protected:
  explicit ByteSource(std::string name) : name_(std::move(name)) {}
  // Reads up to n bytes; returns how many were read.
  virtual size_t RawRead(void* dst, size_t n) = 0;

 private:
  std::string name_;
  uint32_t crc_ = 0;
  uint64_t pos_ = 0;
};

// Reads a file from the start. Not thread-safe (one reader).
class FileSource : public ByteSource {
 public:
  // Opens `path`; check status() before use.
  explicit FileSource(const std::string& path);
  ~FileSource() override;
  const Status& status() const { return status_; }
  uint64_t file_size() const { return size_; }
  bool AtEnd() override;
  uint64_t Remaining() const override { return position() < size_ ? size_ - position() : 0; }

 protected:
  size_t RawRead(void* dst, size_t n) override;

 private:
  std::FILE* f_ = nullptr;
  Status status_;
  uint64_t size_ = 0;
};

// Reads a caller's buffer, which must outlive it; never copies it. Not thread-safe.
class MemorySource : public ByteSource {
 public:
  MemorySource(const void* data, size_t size, std::string name)
      : ByteSource(std::move(name)), p_(static_cast<const char*>(data)), left_(size) {}
  bool AtEnd() override { return left_ == 0; }
  uint64_t Remaining() const override { return left_; }

 protected:
  size_t RawRead(void* dst, size_t n) override;

 private:
  const char* p_;
  size_t left_;
};

// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename,
// then fsync of the directory. A crash leaves either the old file or the new one, never a mix.
// A symbolic link is followed (the link stays, its target is replaced); an existing path that
// is not a regular file (directory, FIFO, device, socket) is refused with InvalidArgument.
Status WriteFileAtomically(const std::string& path, const std::string& bytes);

}  // namespace fastintent
