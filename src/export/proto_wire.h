// A minimal protobuf wire-format encoder (developers.google.com/protocol-buffers/docs/encoding):
// varints, little-endian fixed 32-bit values and length-delimited fields, enough to write the
// messages of onnx.proto without libprotobuf. Nested messages are built in their own
// ProtoWriter and added with Message().
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace fastintent {

class ProtoWriter {
 public:
  // Field `field` as a varint (wire type 0): int32/int64/enum/bool values.
  void Varint(uint32_t field, uint64_t v) {
    Tag(field, 0);
    Raw(v);
  }
  // Field `field` as a float (wire type 5, IEEE-754 little-endian).
  void Float(uint32_t field, float f) {
    Tag(field, 5);
    uint32_t u;
    std::memcpy(&u, &f, 4);
    for (int i = 0; i < 4; ++i) out_.push_back(char((u >> (8 * i)) & 0xff));
  }
  // Field `field` as bytes or a string (wire type 2).
  void Bytes(uint32_t field, std::string_view bytes) {
    Tag(field, 2);
    Raw(bytes.size());
    out_.append(bytes.data(), bytes.size());
  }
  // Field `field` as an embedded message.
  void Message(uint32_t field, const ProtoWriter& m) { Bytes(field, m.out_); }
  const std::string& bytes() const { return out_; }

 private:
  void Tag(uint32_t field, uint32_t wire_type) { Raw((uint64_t(field) << 3) | wire_type); }
  void Raw(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(char((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(char(v));
  }
  std::string out_;
};

// `n` floats as little-endian bytes (ONNX raw_data, Core ML rawValue-free float fields).
inline std::string FloatBytes(const float* f, size_t n) {
  std::string s(n * 4, '\0');
  for (size_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, &f[i], 4);
    for (int b = 0; b < 4; ++b) s[i * 4 + b] = char((u >> (8 * b)) & 0xff);
  }
  return s;
}

}  // namespace fastintent
