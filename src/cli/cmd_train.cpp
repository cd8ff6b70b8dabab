// `vae train`: options into a TrainConfig, one progress line per epoch. The training itself is vae::train_run.
#include <cstdio>

#include "common.hpp"
#include "vae/train.hpp"

namespace cli {

namespace {

int run_train(Args& a) {
  vae::TrainConfig c;
  c.dataset = a.choice("data", {"mnist", "fashion"});
  c.data_dir = a.str("data-dir");
  c.root = a.str("root");
  c.arch.Z = int(a.integer("latent", 1, 4096));
  if (!vae::parse_int_list(a.str("hidden"), 1, 65536, c.arch.hidden))
    a.fail("hidden", "comma-separated layer sizes such as 512,256");
  c.epochs = int(a.integer("epochs", 1, 100000));
  c.batch = int(a.integer("batch", 2, 100000));
  c.lr = float(a.real("lr", 1e-8, 1.0));
  c.lr_final = float(a.real("lr-final", 0.0, 1.0));
  c.warmup_epochs = int(a.integer("warmup", 0, 100000));
  c.binarize = !a.has("grey");
  c.val_count = int(a.integer("val", 0, 1000000));
  c.train_limit = int(a.integer("limit", 0, 100000000));
  c.seed = uint64_t(a.integer("seed", 0, (1LL << 62)));
  c.threads = int(a.integer("threads", 1, 256));
  c.out = out_path("train", a, "out", {});
  c.out_dtype = a.choice("dtype", {"f32", "f16"}) == "f16" ? vae::DType::F16 : vae::DType::F32;
  c.checkpoint = a.has("checkpoint") ? out_path("train", a, "checkpoint", {"out"}) : c.out + ".ckpt.safetensors";
  c.resume = a.has("resume");
  if (a.has("conditional")) {
    c.classes = 10;  // MNIST's and Fashion-MNIST's labels; train_run checks every label against it
    if (!vae::parse_int_list(a.str("classifier-hidden"), 1, 65536, c.classifier_hidden))
      a.fail("classifier-hidden", "comma-separated layer sizes such as 512,256");
    c.class_weight = float(a.real("class-weight", 0.0, 1e6));
  }
  c.command = g_command;
  // The input size comes from the data set (28x28 for both MNIST and Fashion-MNIST); train_run checks it.
  std::string classifier;  // "784-512-256-10"
  for (int n : c.classifier_hidden) classifier += "-" + std::to_string(n);
  classifier = std::to_string(c.arch.D) + classifier + "-" + std::to_string(c.classes);
  std::printf("training %s%s on %s: %s, %d epochs, batch %d, lr %g -> %g, KL warm-up %d epochs, %s, seed %llu\n",
              c.arch.describe().c_str(),
              c.classes ? (" conditioned on " + std::to_string(c.classes) + " labels, classifier " + classifier).c_str()
                        : "",
              c.dataset.c_str(), c.out.c_str(), c.epochs, c.batch, double(c.lr), double(c.lr_final), c.warmup_epochs,
              c.binarize ? "dynamic binarisation" : "grey targets", (unsigned long long)c.seed);
  std::fflush(stdout);
  const bool conditional = c.classes > 0;
  Status s = vae::train_run(c, [conditional](const vae::EpochReport& r) {
    char cls[64] = "";
    if (conditional)  // the classifier's cross-entropy (training) and error (validation)
      std::snprintf(cls, sizeof cls, "  ce %.4f  val error %.2f%%", r.train_ce, 100 * r.val_error);
    std::printf("epoch %4d/%d  train %8.3f (rec %7.3f kl %6.3f)  val %8.3f (rec %7.3f kl %6.3f)%s  beta %.2f  "
                "lr %.2e  %s img/s  %5.1fs  left %s%s%s\n",
                r.epoch, r.epochs, r.train_elbo, r.train_rec, r.train_kl, r.val_elbo, r.val_rec, r.val_kl, cls, r.beta,
                double(r.lr), thousands(r.images_per_s).c_str(), r.seconds, duration(r.eta_seconds).c_str(),
                r.best ? "  *best" : "", r.resumed ? "  (resumed)" : "");
    std::fflush(stdout);
  });
  if (!s) die("train", s);
  std::printf("wrote %s (best epoch by validation ELBO); checkpoint %s\n", c.out.c_str(), c.checkpoint.c_str());
  return 0;
}

}  // namespace

Command command_train() {
  return {"train", "Train a VAE with Adam on the negative ELBO; writes a checkpoint every epoch and the best model at the end.",
          {kData, kDataDir, kRoot,
           {"latent", "Z", "2", "latent size"},
           {"hidden", "H,H", "512,256", "encoder hidden sizes (the decoder mirrors them)"},
           {"epochs", "N", "100", "epochs"},
           {"batch", "N", "100", "minibatch size"},
           {"lr", "X", "0.001", "Adam learning rate at the start"},
           {"lr-final", "X", "0.00001", "learning rate at the end of the cosine schedule"},
           {"warmup", "N", "10", "KL warm-up epochs (beta rises linearly from 0 to 1)"},
           {"grey", nullptr, nullptr, "train on grey values instead of dynamically binarised images"},
           {"val", "N", "10000", "training images held out for validation and best-model selection"},
           {"limit", "N", "0", "use only N training images (0: all)"},
           kSeed, kThreads,
           {"out", "PATH", "mnist-z2.safetensors", "where the best model goes"},
           {"dtype", "TYPE", "f32", "weights in the output file: f32 or f16"},
           {"checkpoint", "PATH", nullptr, "checkpoint file (default: OUT.ckpt.safetensors)"},
           {"resume", nullptr, nullptr, "continue from the checkpoint if it exists"},
           {"conditional", nullptr, nullptr,
            "a label-conditioned model (Kingma et al. 2014, M2 with every label known): encoder q(z|x,y), decoder "
            "p(x|z,y), and a classifier q(y|x) trained beside them"},
           {"classifier-hidden", "H,H", "512,256", "with --conditional: the classifier's hidden sizes"},
           {"class-weight", "X", "1", "with --conditional: the weight of the classifier's cross-entropy"}},
          run_train};
}

}  // namespace cli
