// The VAE: an MLP encoder q(z|x) = N(mu, diag(sigma^2)), a Bernoulli MLP decoder p(x|z), their forward and
// hand-written backward passes, the ELBO and the importance-weighted bound. No I/O and no threads here.
//
// Size letters: B batch, D input pixels (784 for MNIST), H_0..H_{L-1} hidden widths, Z latent size.
// Layout: activations are Eigen column-major (features, B), one image per column, so a row-major block of
// B images of D pixels is a (D, B) matrix without a copy. Weights live in one flat float buffer in the file's
// order and layout: nn.Linear's row-major (out, in), viewed through Eigen RowMajor maps.
#pragma once
#include <Eigen/Core>
#include <Eigen/StdVector>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "vae/prng.hpp"
#include "vae/status.hpp"

namespace vae {

// Everything numeric is a template on the scalar T: float for training and inference, double for the
// gradient checks. Explicit instantiations for both live in model.cpp.
template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;  // column-major (features, B)
template <class T>
using RowVec = Eigen::Matrix<T, 1, Eigen::Dynamic>;
// A read-only view of any column-major block (a Map over images, middleCols of a batch). Reached through a
// struct so it is a non-deduced context: T comes from the model argument.
template <class T>
struct Types {
  using Ref = Eigen::Ref<const Mat<T>>;
};
template <class T>
using MatRef = typename Types<T>::Ref;

using Matrix = Mat<float>;
using MatrixRef = MatRef<float>;

// The architecture: encoder D -> H_0 -> ... -> H_{L-1} -> (mu, logvar) each Z; decoder the mirror image
// Z -> H_{L-1} -> ... -> H_0 -> D. ReLU after every hidden layer, logits out of the decoder.
struct Arch {
  int D = 784;
  std::vector<int> hidden = {512, 256};
  int Z = 2;
  int image_rows = 28, image_cols = 28;  // how the D pixels form an image (rows * cols == D)

  Status check() const;
  std::string describe() const;  // "784-512-256-[2]-256-512-784"
  bool operator==(const Arch& o) const {
    return D == o.D && hidden == o.hidden && Z == o.Z && image_rows == o.image_rows && image_cols == o.image_cols;
  }
};

// One named parameter tensor inside the flat buffer. Row-major, shape (rows, cols); a bias has cols == 0
// (shape (rows,) in the file).
struct TensorSlot {
  std::string name;
  int rows = 0, cols = 0;
  size_t offset = 0;
  size_t size() const { return size_t(rows) * size_t(cols > 0 ? cols : 1); }
};

// A dense layer's place in the flat buffer: W (out, in) row-major at w, b (out) at b.
struct Linear {
  int in = 0, out = 0;
  size_t w = 0, b = 0;
};

// A flat buffer whose start is aligned for the widest SIMD packet. Together with tensor offsets that are
// multiples of kTensorAlign elements, every tensor view has the same alignment in every run, which keeps
// Eigen's choice of kernel, and so the rounding of every sum, the same: bit-identical reruns and resumes.
template <class T>
using Buffer = std::vector<T, Eigen::aligned_allocator<T>>;
constexpr size_t kTensorAlign = 16;  // elements: 64 bytes of float

// Where every tensor of an architecture lives. Parameters, gradients and Adam's two moments are all flat
// buffers of `total` floats in this one layout, so zeroing, the optimiser step and file I/O are single loops.
struct Layout {
  std::vector<TensorSlot> slots;
  std::vector<Linear> enc;  // D (+ C) -> H_0 -> ... -> H_{L-1}
  Linear enc_mu, enc_logvar;  // H_{L-1} -> Z
  std::vector<Linear> dec;  // Z (+ C) -> H_{L-1} -> ... -> H_0
  Linear dec_out;           // H_0 -> D
  // A label-conditioned model's classifier q(y|x) (cvae.hpp): D -> its hidden layers -> C. Empty otherwise.
  std::vector<Linear> cls;
  Linear cls_out;
  size_t total = 0;  // including the padding between tensors, which stays zero
};
Layout layout_make(const Arch& arch);
// The layout of a label-conditioned model (cvae.hpp): the encoder's first layer also reads C label inputs, so
// does the decoder's, and a classifier D -> classifier_hidden -> C follows the decoder.
Layout layout_make_conditional(const Arch& arch, int C, const std::vector<int>& classifier_hidden);
// The number of parameters (the tensors' elements, without the alignment padding counted in total).
size_t layout_parameter_count(const Layout& lay);
// The name of layer L's weight tensor in lay ("decoder.out.weight"), or "" if L is not one of lay's layers.
const std::string& layout_weight_name(const Layout& lay, const Linear& L);

template <class T>
struct VaeT {
  Arch arch;
  Layout layout;
  Buffer<T> params;  // (layout.total)
  // The weights a quantized file held as int8 (quant.hpp), by tensor name: each one's scale per output row. The
  // params hold their dequantized values q * scale; the packed inference runs them in integers (infer.hpp).
  std::map<std::string, std::vector<float>> row_scales = {};
};
using Vae = VaeT<float>;
// Glorot-uniform weights, zero biases (the decoder's output bias may be set from the data mean by the trainer).
template <class T = float>
VaeT<T> vae_make(const Arch& arch, uint64_t seed);
// The same for m.layout as it is (a conditional model's too): every tensor of it, the padding zero.
template <class T>
void params_init(VaeT<T>& m, uint64_t seed);

// Activations of one batch, kept for the backward pass. Resized on demand; reuse it across calls.
template <class T>
struct WorkspaceT {
  std::vector<Mat<T>> h;      // encoder hidden outputs after ReLU, (H_i, B)
  Mat<T> mu, logvar;          // (Z, B)
  Mat<T> eps, z;              // (Z, B) noise and the sample z = mu + exp(logvar / 2) * eps
  std::vector<Mat<T>> g;      // decoder hidden outputs after ReLU, (H_i, B), in decoder order
  Mat<T> logits;              // (D, B)
  RowVec<T> rec, kl;          // (B) per image: -log p(x|z) and KL(q(z|x) || p(z)), nats
  // backward scratch
  Mat<T> d_out, d_in, d_tmp, dmu, dlogvar;
};
using Workspace = WorkspaceT<float>;

// Sums over the batch, in nats. ELBO = -(rec + kl).
struct ElboSum {
  double rec = 0, kl = 0;
  int count = 0;
  double elbo() const { return -(rec + kl); }
  ElboSum& operator+=(const ElboSum& o) {
    rec += o.rec;
    kl += o.kl;
    count += o.count;
    return *this;
  }
};

// ---- ops: each forward beside its backward. Parameter gradients are written (=) into the flat grad buffer:
// every parameter is used once per pass, so the buffer needs no zeroing between steps. ----

// Y = W X + b
template <class T>
void linear_forward(const T* params, const Linear& L, const MatRef<T>& X, Mat<T>& Y);
// dW = dY X^T, db = sum_b dY, and dX = W^T dY when dX is given.
template <class T>
void linear_backward(const T* params, const Linear& L, const MatRef<T>& X, const Mat<T>& dY, T* grads,
                     Mat<T>* dX);

template <class T>
void relu_forward(Mat<T>& Y);                      // in place
template <class T>
void relu_backward(const Mat<T>& Y, Mat<T>& dY);   // dY *= [Y > 0], Y being the ReLU's output

// Bernoulli negative log-likelihood from logits l, for targets x in [0, 1] (binary or grey):
// -log p(x|z) = sum_d softplus(l_d) - x_d l_d, computed as max(l, 0) - x l + log1p(exp(-|l|)).
template <class T>
void bce_forward(const Mat<T>& logits, const MatRef<T>& X, RowVec<T>& per_image);
// d/dl = sigmoid(l) - x, times scale.
template <class T>
void bce_backward(const Mat<T>& logits, const MatRef<T>& X, T scale, Mat<T>& dlogits);

// Closed-form KL(N(mu, sigma^2) || N(0, 1)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)
// (Kingma & Welling 2013, Appendix B).
template <class T>
void kl_forward(const Mat<T>& mu, const Mat<T>& logvar, RowVec<T>& per_image);
// dKL/dmu = mu, dKL/dlogvar = (exp(logvar) - 1) / 2, times scale, added to dmu and dlogvar.
template <class T>
void kl_backward(const Mat<T>& mu, const Mat<T>& logvar, T scale, Mat<T>& dmu, Mat<T>& dlogvar);

// The reparameterisation trick (Kingma & Welling 2013, section 2.4): z = mu + exp(logvar / 2) * eps,
// eps ~ N(0, I), so z is a differentiable function of (mu, logvar).
template <class T>
void reparam_forward(const Mat<T>& mu, const Mat<T>& logvar, const Mat<T>& eps, Mat<T>& z);
// dmu += dz, dlogvar += dz * eps * exp(logvar / 2) / 2.
template <class T>
void reparam_backward(const Mat<T>& logvar, const Mat<T>& eps, const Mat<T>& dz, Mat<T>& dmu, Mat<T>& dlogvar);

// A stack of hidden layers: acts[i] = relu(W_i acts[i-1] + b_i), with acts[-1] = X.
template <class T>
void relu_stack_forward(const T* params, const std::vector<Linear>& layers, const MatRef<T>& X,
                        std::vector<Mat<T>>& acts);
// Its backward, from d_out = dLoss/d acts.back() (overwritten): every layer's gradients, and dX when given.
// scratch: any matrix, reused.
template <class T>
void relu_stack_backward(const T* params, const std::vector<Linear>& layers, const MatRef<T>& X,
                         const std::vector<Mat<T>>& acts, Mat<T>& d_out, Mat<T>& scratch, T* grads, Mat<T>* dX);

// ---- the model ----

// Encoder only: fills ws.h, ws.mu, ws.logvar for X (D, B).
template <class T>
void vae_encode(const VaeT<T>& m, const MatRef<T>& X, WorkspaceT<T>& ws);
// Decoder only: Z (Z, N) -> ws.logits (D, N) (ws.g filled for the backward pass).
template <class T>
void vae_decode_logits(const VaeT<T>& m, const MatRef<T>& Zs, WorkspaceT<T>& ws);
// Decoder means: Bernoulli probabilities sigmoid(logits), (D, N).
template <class T>
void vae_decode(const VaeT<T>& m, const MatRef<T>& Zs, WorkspaceT<T>& ws, Mat<T>& probs);

// Full forward for a batch X (D, B) with noise eps (Z, B): encode, sample, decode, and the per-image
// reconstruction and KL terms (ws.rec, ws.kl). Returns their sums.
template <class T>
ElboSum vae_forward(const VaeT<T>& m, const MatRef<T>& X, const MatRef<T>& eps, WorkspaceT<T>& ws);
// Backward of loss = scale * sum_b (rec_b + beta * kl_b), in exactly the reverse order of vae_forward;
// every parameter's gradient is written into grads (layout.total floats; the padding is left alone).
// Needs the ws of the matching vae_forward.
template <class T>
void vae_backward(const VaeT<T>& m, const MatRef<T>& X, T beta, T scale, WorkspaceT<T>& ws, T* grads);
// The encoder's part of it, from ws.dmu and ws.dlogvar: the encoder's gradients (none w.r.t. X, its input).
template <class T>
void encoder_backward(const VaeT<T>& m, const MatRef<T>& X, WorkspaceT<T>& ws, T* grads);

// Importance-weighted estimate of log p(x) for each column of X (Burda et al. 2015, eq. 8):
// log (1/K) sum_k p(x, z_k) / q(z_k|x), z_k ~ q(z|x). With K = 1 it is the single-sample ELBO.
// Image b draws from its own stream (seed, first_index + b), so results do not depend on how images are split.
// X must be binary for this to be a likelihood; out gets B values in nats (log p(x) <= 0).
template <class T>
void vae_iwae(const VaeT<T>& m, const MatRef<T>& X, int K, uint64_t seed, size_t first_index, WorkspaceT<T>& ws,
              std::vector<double>& out);
// The same estimate from an encoder's output (mu, logvar each (Z, B)) and any decoder that maps codes
// (Z, N) to logits (D, N): vae_iwae is this with the model's own decoder; infer_iwae (infer.hpp) with the
// packed one.
template <class T>
using DecodeLogitsFn = std::function<void(const Mat<T>& codes, Mat<T>& logits)>;
template <class T>
void iwae_from_posterior(const MatRef<T>& X, const Mat<T>& mu, const Mat<T>& logvar, int K, uint64_t seed,
                         size_t first_index, const DecodeLogitsFn<T>& decode_logits, std::vector<double>& out);

// log N(x; 0, 1) summed over dimensions is -1/2 ||x||^2 - (n/2) log 2 pi.
constexpr double kHalfLog2Pi = 0.91893853320467274178;

}  // namespace vae
