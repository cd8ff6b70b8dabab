// A VAE's weights file: safetensors with PyTorch-style names (encoder.fc1.weight, shape (out, in), row-major)
// and the architecture, provenance and test figures as __metadata__ strings. Checks that the tensors match the
// declared architecture exactly (extra "map.*" and "pca.*" tensors aside, each read by its own module); the
// byte-level checks are st_parse's.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "vae/cvae.hpp"
#include "vae/model.hpp"
#include "vae/safetensors.hpp"
#include "vae/status.hpp"

namespace vae {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// Metadata keys that describe the architecture.
constexpr const char* kMetaFormat = "format";  // "vae-studio/1"
constexpr const char* kMetaInput = "vae.input";
constexpr const char* kMetaImage = "vae.image";  // "28x28"
constexpr const char* kMetaHidden = "vae.hidden";  // "512,256"
constexpr const char* kMetaLatent = "vae.latent";
constexpr const char* kMetaLikelihood = "vae.likelihood";  // "bernoulli"
// A label-conditioned model's (cvae.hpp): its number of classes and its classifier's hidden widths ("" for none).
constexpr const char* kMetaClasses = "vae.classes";  // "10"
constexpr const char* kMetaClassifierHidden = "vae.classifier_hidden";  // "512,256"

// Tensors whose names start with this prefix are not parameters: they ride along in the model's file (the
// studio's latent map, see latent_map.hpp) and are read and checked by their own module.
constexpr const char* kMapPrefix = "map.";
bool is_map_tensor(const std::string& name);

// Builds the model from a parsed file (architecture from the metadata, then every tensor by name and shape).
// A file without our metadata (a PyTorch state dict as safetensors.torch.save_file writes it, no __metadata__ or
// transformers' {"format": "pt"}) loads too: its architecture is read from the tensors' names and shapes
// (encoder.fc1 ... encoder.fcL, encoder.mu) and the image is square unless "vae.image" says otherwise; the
// checks that follow are the same. Besides the parameters the file may hold only tensors named "map.*"
// (latent_map.hpp) or "pca.*" (pca.hpp), skipped here but for their dtype (a float); any other extra tensor is
// refused. Each layer's weight may be a float tensor or I8 with its per-row scales beside it (quant.hpp), then
// dequantized to float here; biases, map.* and pca.* must be floats, and quant.method must agree (quant.hpp).
Status model_from_st(const StFile& f, Vae& out);
// The file for a model: its tensors in layout order and the metadata (architecture keys are set here).
StFile model_to_st(const Vae& m, const Metadata& extra);
// The same for a label-conditioned model (cvae.hpp): our metadata with vae.classes and vae.classifier_hidden, and
// its tensors, the classifier's (classifier.fc1 ... classifier.out) included. model_from_st refuses such a file,
// naming it, and cvae_from_st a plain one.
Status cvae_from_st(const StFile& f, Cvae& out);
StFile cvae_to_st(const Cvae& m, const Metadata& extra);

Status model_parse(const uint8_t* bytes, size_t size, Vae& out, Metadata* meta);
Status model_load(const std::string& path, Vae& out, Metadata* meta);
Status model_save(const std::string& path, const Vae& m, const Metadata& meta, DType dtype);

// True if the metadata is ours ("format": "vae-studio/1"); false for a plain state dict, whose architecture was
// inferred and whose test figures, training command and latent map are absent.
bool meta_is_ours(const Metadata& meta);

std::string meta_get(const Metadata& meta, const std::string& key, const std::string& fallback = "");
void meta_set(Metadata& meta, const std::string& key, const std::string& value);

// Strict parsers for metadata values: the whole string must be the number.
bool parse_int(const std::string& s, long long lo, long long hi, long long& out);
bool parse_int_list(const std::string& s, long long lo, long long hi, std::vector<int>& out);
// Its inverse: "512,256" ("" for none).
std::string int_list_str(const std::vector<int>& v);

}  // namespace vae
