// Model <-> safetensors. The flat parameter buffer is already in the file's layout (row-major (out, in)),
// so each tensor is one contiguous copy.
#include "vae/model_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "vae/pca.hpp"
#include "vae/quant.hpp"

namespace vae {

bool parse_int(const std::string& s, long long lo, long long hi, long long& out) {
  if (s.empty() || s.size() > 19) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (!(std::isdigit(static_cast<unsigned char>(s[i])) || (i == 0 && s[i] == '-' && s.size() > 1))) return false;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), nullptr, 10);
  if (errno != 0 || v < lo || v > hi) return false;
  out = v;
  return true;
}

bool parse_int_list(const std::string& s, long long lo, long long hi, std::vector<int>& out) {
  out.clear();
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    long long v = 0;
    if (!parse_int(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start), lo, hi, v))
      return false;
    out.push_back(int(v));
    if (comma == std::string::npos) return true;
    if (out.size() > 64) return false;
    start = comma + 1;
  }
}

std::string meta_get(const Metadata& meta, const std::string& key, const std::string& fallback) {
  for (const auto& kv : meta)
    if (kv.first == key) return kv.second;
  return fallback;
}

void meta_set(Metadata& meta, const std::string& key, const std::string& value) {
  for (auto& kv : meta)
    if (kv.first == key) {
      kv.second = value;
      return;
    }
  meta.emplace_back(key, value);
}

bool is_map_tensor(const std::string& name) { return name.rfind(kMapPrefix, 0) == 0; }

namespace {

// The image shape: vae.image ("ROWSxCOLS") when the file has it.
Status image_from_meta(const StFile& f, Arch& a) {
  const std::string img = f.meta(kMetaImage);
  const size_t x = img.find('x');
  long long r = 0, c = 0;
  if (x == std::string::npos || !parse_int(img.substr(0, x), 1, 1 << 12, r) || !parse_int(img.substr(x + 1), 1, 1 << 12, c))
    return Status::error("metadata vae.image \"" + img + "\" is not ROWSxCOLS");
  a.image_rows = int(r);
  a.image_cols = int(c);
  return Status::success();
}

// A state dict without our metadata: the architecture from the names and shapes of encoder.fc1 ... encoder.fcL
// and encoder.mu (model_from_st then checks every tensor against it), the image square unless vae.image says.
Status arch_from_tensors(const StFile& f, Arch& a) {
  auto weight = [&f](const std::string& name, const StTensor*& t) {
    t = f.find(name);
    if (t && t->shape.size() != 2)
      return Status::error("tensor \"" + name + "\" has shape " + st_shape_str(t->shape) + ", a weight is (out, in)");
    return Status::success();
  };
  const StTensor* t = nullptr;
  Status s = Status::success();
  a.hidden.clear();
  for (int i = 1; i <= 64; ++i) {
    if (!(s = weight("encoder.fc" + std::to_string(i) + ".weight", t))) return s;
    if (!t) break;
    if (i == 1) a.D = int(std::min<int64_t>(t->shape[1], 1 << 25));
    a.hidden.push_back(int(std::min<int64_t>(t->shape[0], 1 << 20)));
  }
  const StTensor* mu = nullptr;
  if (!(s = weight("encoder.mu.weight", mu))) return s;
  if (a.hidden.empty() || !mu)
    return Status::error("not a VAE Studio model: no \"format\" in __metadata__, and no encoder.fc1.weight and "
                         "encoder.mu.weight tensors to read the architecture from");
  a.Z = int(std::min<int64_t>(mu->shape[0], 1 << 20));
  if (!f.meta(kMetaImage).empty()) return image_from_meta(f, a);
  const int side = int(std::lround(std::sqrt(double(a.D))));
  if (side * side != a.D)
    return Status::error("input size " + std::to_string(a.D) + " is not a square image: say its shape with "
                         "__metadata__ \"vae.image\": \"ROWSxCOLS\"");
  a.image_rows = a.image_cols = side;
  return Status::success();
}

Status arch_from_meta(const StFile& f, Arch& a) {
  const std::string fmt = f.meta(kMetaFormat);
  if (!meta_is_ours(f.metadata)) {
    if (fmt.empty() || fmt == "pt") return arch_from_tensors(f, a);  // "pt": transformers' save_pretrained
    return Status::error("unknown model format \"" + fmt + "\" (expected vae-studio/1, or a PyTorch state dict)");
  }
  long long d = 0, z = 0;
  if (!parse_int(f.meta(kMetaInput), 1, 1 << 24, d))
    return Status::error("metadata vae.input \"" + f.meta(kMetaInput) + "\" is not a size");
  if (!parse_int(f.meta(kMetaLatent), 1, 65536, z))
    return Status::error("metadata vae.latent \"" + f.meta(kMetaLatent) + "\" is not a size");
  if (!parse_int_list(f.meta(kMetaHidden), 1, 65536, a.hidden))
    return Status::error("metadata vae.hidden \"" + f.meta(kMetaHidden) + "\" is not a list of sizes like 512,256");
  const Status s = image_from_meta(f, a);
  if (!s) return s;
  const std::string lik = f.meta(kMetaLikelihood, "bernoulli");
  if (lik != "bernoulli") return Status::error("likelihood \"" + lik + "\" not supported (bernoulli)");
  a.D = int(d);
  a.Z = int(z);
  return Status::success();
}

}  // namespace

std::string int_list_str(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

bool meta_is_ours(const Metadata& meta) { return meta_get(meta, kMetaFormat) == "vae-studio/1"; }

namespace {

// A label-conditioned model's classes and classifier from its metadata (C 0 in a plain model's file).
Status classes_from_meta(const StFile& f, int& C, std::vector<int>& classifier_hidden) {
  C = 0;
  classifier_hidden.clear();
  const std::string classes = f.meta(kMetaClasses), cls = f.meta(kMetaClassifierHidden);
  if (classes.empty()) return Status::success();
  long long c = 0;
  if (!parse_int(classes, 2, 1000, c)) return Status::error("metadata vae.classes \"" + classes + "\" is not 2..1000");
  if (!cls.empty() && !parse_int_list(cls, 1, 65536, classifier_hidden))
    return Status::error("metadata vae.classifier_hidden \"" + cls + "\" is not a list of sizes like 512,256");
  C = int(c);
  return Status::success();
}

// Every tensor of the layout from the file, by name and shape, a weight dequantized if it is I8 (quant.hpp);
// besides them the file may hold only the I8 weights' scales and map.* and pca.* tensors (floats, all of them).
Status tensors_from_st(const StFile& f, const Arch& arch, VaeT<float>& m) {
  m.params.assign(m.layout.total, 0.f);
  m.row_scales.clear();
  bool any_i8 = false;
  for (const TensorSlot& slot : m.layout.slots) {
    const StTensor* t = f.find(slot.name);
    const std::vector<int64_t> want =
        slot.cols > 0 ? std::vector<int64_t>{slot.rows, slot.cols} : std::vector<int64_t>{slot.rows};
    if (!t) return Status::error("tensor \"" + slot.name + "\" missing for architecture " + arch.describe());
    if (t->shape != want)
      return Status::error("tensor \"" + slot.name + "\" has shape " + st_shape_str(t->shape) + ", architecture " +
                           arch.describe() + " needs " + st_shape_str(want));
    float* dst = m.params.data() + slot.offset;
    if (slot.cols > 0) {
      const Status s = quant_weight_values(f, *t, slot.rows, slot.cols, dst);
      if (!s) return s;
      if (t->dtype == DType::I8) {
        any_i8 = true;
        m.row_scales[slot.name] = f.find(quant_scale_name(slot.name))->data;
      }
    } else if (t->dtype == DType::I8) {
      return Status::error("tensor \"" + slot.name + "\" is I8; only a layer's weight may be quantized, a bias "
                           "stays a float (F32, F16 or BF16)");
    } else {
      std::copy(t->data.begin(), t->data.end(), dst);
    }
  }
  for (const StTensor& t : f.tensors) {
    const bool known = std::any_of(m.layout.slots.begin(), m.layout.slots.end(),
                                   [&t](const TensorSlot& sl) { return sl.name == t.name; });
    if (known) continue;
    if (is_map_tensor(t.name) || is_pca_tensor(t.name)) {  // checked further by latent_map.cpp, pca.cpp
      if (t.dtype == DType::I8)
        return Status::error("tensor \"" + t.name + "\" is I8; only a layer's weight may be quantized, " +
                             t.name.substr(0, t.name.find('.')) + ".* tensors stay floats (F32, F16 or BF16)");
      continue;
    }
    if (quant_is_scale(t.name)) {  // a scale beside its weight was checked with the weight
      const std::string weight = t.name.substr(0, t.name.size() - std::string("_scale").size());
      const bool has_weight = std::any_of(m.layout.slots.begin(), m.layout.slots.end(),
                                          [&weight](const TensorSlot& sl) { return sl.name == weight && sl.cols > 0; });
      if (has_weight) continue;
      return Status::error("tensor \"" + t.name + "\" is a scale with no weight \"" + weight +
                           "\" in architecture " + arch.describe());
    }
    return Status::error("unexpected tensor \"" + t.name + "\" for architecture " + arch.describe());
  }
  return quant_check_meta(f, any_i8);
}

}  // namespace

Status model_from_st(const StFile& f, Vae& out) {
  Arch arch;
  int C = 0;
  std::vector<int> cls;
  Status s = classes_from_meta(f, C, cls);
  if (s && (C > 0 || f.find("classifier.out.weight")))
    return Status::error("a label-conditioned model (it has a classifier q(y|x)): this needs a plain VAE");
  if (s) s = arch_from_meta(f, arch);
  if (s) s = arch.check();
  if (!s) return s;
  Vae m{arch, layout_make(arch), {}};
  s = tensors_from_st(f, arch, m);
  if (!s) return s;
  out = std::move(m);
  return Status::success();
}

Status cvae_from_st(const StFile& f, Cvae& out) {
  Arch arch;
  Cvae m;
  Status s = arch_from_meta(f, arch);
  if (s) s = arch.check();
  if (s) s = classes_from_meta(f, m.C, m.classifier_hidden);
  if (!s) return s;
  if (m.C == 0) return Status::error("not a label-conditioned model: no vae.classes in its metadata");
  m.net = Vae{arch, layout_make_conditional(arch, m.C, m.classifier_hidden), {}, {}};
  s = tensors_from_st(f, arch, m.net);
  if (!s) return s;
  out = std::move(m);
  return Status::success();
}

StFile cvae_to_st(const Cvae& m, const Metadata& extra) {
  Metadata meta = extra;
  meta_set(meta, kMetaClasses, std::to_string(m.C));
  meta_set(meta, kMetaClassifierHidden, int_list_str(m.classifier_hidden));
  return model_to_st(m.net, meta);
}

StFile model_to_st(const Vae& m, const Metadata& extra) {
  StFile f;
  f.set_meta(kMetaFormat, "vae-studio/1");
  f.set_meta(kMetaInput, std::to_string(m.arch.D));
  f.set_meta(kMetaImage, std::to_string(m.arch.image_rows) + "x" + std::to_string(m.arch.image_cols));
  f.set_meta(kMetaHidden, int_list_str(m.arch.hidden));
  f.set_meta(kMetaLatent, std::to_string(m.arch.Z));
  f.set_meta(kMetaLikelihood, "bernoulli");
  for (const auto& kv : extra) f.set_meta(kv.first, kv.second);
  for (const TensorSlot& slot : m.layout.slots) {
    StTensor t;
    t.name = slot.name;
    t.shape = slot.cols > 0 ? std::vector<int64_t>{slot.rows, slot.cols} : std::vector<int64_t>{slot.rows};
    t.data.assign(m.params.begin() + std::ptrdiff_t(slot.offset),
                  m.params.begin() + std::ptrdiff_t(slot.offset + slot.size()));
    f.tensors.push_back(std::move(t));
  }
  return f;
}

Status model_parse(const uint8_t* bytes, size_t size, Vae& out, Metadata* meta) {
  StFile f;
  Status s = st_parse(bytes, size, f);
  if (!s) return s;
  Vae m;
  s = model_from_st(f, m);
  if (!s) return s;
  out = std::move(m);
  if (meta) *meta = f.metadata;
  return Status::success();
}

Status model_load(const std::string& path, Vae& out, Metadata* meta) {
  StFile f;
  Status s = st_load(path, f);
  if (!s) return s;
  Vae m;
  s = model_from_st(f, m);
  if (!s) return s.with_context(path);
  out = std::move(m);
  if (meta) *meta = f.metadata;
  return Status::success();
}

Status model_save(const std::string& path, const Vae& m, const Metadata& meta, DType dtype) {
  return st_save(path, model_to_st(m, meta), dtype);
}

}  // namespace vae
