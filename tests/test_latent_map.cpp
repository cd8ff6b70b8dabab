// The latent map: PCA of posterior means against a known stretch direction, projection onto the map's plane and
// back, the "map.*" tensors through a safetensors round trip, malformed maps refused, and the encoder pass.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "vae/latent_map.hpp"
#include "vae/model_io.hpp"

using namespace vae;

namespace {

Arch tiny_arch(int D, int Z) {
  Arch a;
  a.D = D;
  a.hidden = {8};
  a.Z = Z;
  a.image_rows = 3;
  a.image_cols = D / 3;
  return a;
}

std::vector<double> unit(std::vector<double> v) {
  double n = 0;
  for (double x : v) n += x * x;
  for (double& x : v) x /= std::sqrt(n);
  return v;
}

double dot(const std::vector<double>& a, const float* b) {
  double s = 0;
  for (size_t j = 0; j < a.size(); ++j) s += a[j] * b[j];
  return s;
}

// N means in Z = 4 around a centre c, spread with standard deviation 3 along v1, 1 along v2 and 0.01 in every
// direction. v1's largest component is negative, so the sign convention has to flip it.
struct Stretched {
  int N = 2000, Z = 4;
  std::vector<double> c = {1.0, -2.0, 0.5, 3.0};
  std::vector<double> v1 = unit({0.2, -0.9, 0.1, 0.3});
  std::vector<double> v2;
  std::vector<float> means;
  std::vector<uint8_t> labels;
  Stretched() {
    // v2: (0.5, 0.1, -0.8, 0.2) made orthogonal to v1
    std::vector<double> w = {0.5, 0.1, -0.8, 0.2};
    double p = 0;
    for (int j = 0; j < Z; ++j) p += w[size_t(j)] * v1[size_t(j)];
    for (int j = 0; j < Z; ++j) w[size_t(j)] -= p * v1[size_t(j)];
    v2 = unit(w);
    Pcg32 rng(11, 3);
    for (int i = 0; i < N; ++i) {
      const double t1 = 3.0 * rng.normal(), t2 = 1.0 * rng.normal();
      for (int j = 0; j < Z; ++j)
        means.push_back(float(c[size_t(j)] + t1 * v1[size_t(j)] + t2 * v2[size_t(j)] + 0.01 * rng.normal()));
      labels.push_back(uint8_t(i % 10));
    }
  }
};

LatentMap stretched_map() {
  Stretched s;
  LatentMap m;
  REQUIRE(latent_map_from_means(s.means.data(), s.labels.data(), s.N, s.Z, "synthetic", m).ok());
  return m;
}

// A model file with a map, as the CLI writes it.
StFile file_with_map(int Z, LatentMap* map_out = nullptr) {
  Vae m = vae_make(tiny_arch(12, Z), 4);
  StFile f = model_to_st(m, {{"dataset", "mnist"}});
  std::vector<float> means;
  std::vector<uint8_t> labels;
  Pcg32 rng(5, 5);
  for (int i = 0; i < 20; ++i) {
    for (int j = 0; j < Z; ++j) means.push_back(rng.normal() * float(j + 1));
    labels.push_back(uint8_t(9 - i % 10));
  }
  LatentMap map;
  REQUIRE(latent_map_from_means(means.data(), labels.data(), 20, Z, "synthetic, 20 points", map).ok());
  latent_map_to_st(map, f);
  if (map_out) *map_out = map;
  return f;
}

StTensor* find_mut(StFile& f, const std::string& name) {
  for (StTensor& t : f.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string refusal(const StFile& f, int Z) {
  LatentMap m;
  m.kind = "untouched";
  const Status s = latent_map_from_st(f, Z, m);
  CHECK_FALSE(s.ok());
  CHECK(m.kind == "untouched");  // out is replaced only on success
  CHECK(s.message().find('\n') == std::string::npos);
  return s.message();
}

}  // namespace

TEST_CASE("latent map: PCA of means stretched along a known direction finds it first, largest component positive") {
  Stretched s;
  const LatentMap m = stretched_map();
  REQUIRE(m.kind == "pca");
  REQUIRE(m.count() == s.N);
  REQUIRE(m.basis.size() == size_t(2 * s.Z));
  const float* u1 = m.basis.data();
  const float* u2 = u1 + s.Z;
  // The axes are the stretch directions up to sign, and the sign puts each axis's largest component positive:
  // v1's largest component (index 1) is negative, so u1 = -v1.
  CHECK(dot(s.v1, u1) == Approx(-1.0).margin(1e-4));
  CHECK(u1[1] > 0.f);
  CHECK(std::abs(dot(s.v2, u2)) == Approx(1.0).margin(1e-4));
  for (const float* u : {u1, u2}) {
    int big = 0;
    for (int j = 1; j < s.Z; ++j)
      if (std::abs(u[j]) > std::abs(u[big])) big = j;
    CHECK(u[big] > 0.f);
    double n = 0;
    for (int j = 0; j < s.Z; ++j) n += double(u[j]) * u[j];
    CHECK(n == Approx(1.0).margin(1e-6));
  }
  CHECK(std::abs(dot(std::vector<double>(u1, u1 + s.Z), u2)) < 1e-6);
  // Centre: the mean of the means; variance 9 : 1 : (tiny), so about 0.9 and 0.1 of it.
  for (int j = 0; j < s.Z; ++j) CHECK(m.center[size_t(j)] == Approx(s.c[size_t(j)]).margin(0.2));
  CHECK(m.explained[0] == Approx(0.9).margin(0.03));
  CHECK(m.explained[1] == Approx(0.1).margin(0.03));
  CHECK(m.explained[0] + m.explained[1] == Approx(1.0).margin(1e-3));
  // Each point is its mean's projection, and the labels are kept in order.
  for (int i : {0, 1, 777, s.N - 1}) {
    double a = 0, b = 0;
    for (int j = 0; j < s.Z; ++j) {
      const double d = double(s.means[size_t(i * s.Z + j)]) - m.center[size_t(j)];
      a += d * u1[j];
      b += d * u2[j];
    }
    CHECK(m.points[size_t(2 * i)] == Approx(a).margin(1e-5));
    CHECK(m.points[size_t(2 * i + 1)] == Approx(b).margin(1e-5));
    CHECK(m.labels[size_t(i)] == i % 10);
  }
  CHECK(m.source == "synthetic");

  // The same means give the same map, bit for bit.
  const LatentMap again = stretched_map();
  CHECK(again.basis == m.basis);
  CHECK(again.points == m.points);
}

TEST_CASE("latent map: a 2-D latent's map is the means themselves and project/unproject are the identity") {
  const std::vector<float> means = {0.5f, -1.f, 2.f, 3.f, -0.25f, 0.f};
  const std::vector<uint8_t> labels = {7, 1, 4};
  LatentMap m;
  REQUIRE(latent_map_from_means(means.data(), labels.data(), 3, 2, "three", m).ok());
  CHECK(m.kind == "latent");
  CHECK(m.points == means);
  CHECK(m.labels == labels);
  CHECK(m.center.empty());
  CHECK(m.basis.empty());
  const float z[2] = {1.5f, -0.75f}, through[2] = {9.f, 9.f};
  float ab[2], back[2];
  latent_map_project(m, z, 2, ab);
  CHECK(ab[0] == 1.5f);
  CHECK(ab[1] == -0.75f);
  latent_map_unproject(m, 0.25f, 4.f, through, 2, back);
  CHECK(back[0] == 0.25f);
  CHECK(back[1] == 4.f);

  // Too few dimensions or points are refused.
  Status s = latent_map_from_means(means.data(), labels.data(), 6, 1, "", m);
  CHECK_THAT(s.message(), Catch::Contains("at least 2 dimensions"));
  s = latent_map_from_means(means.data(), labels.data(), 1, 3, "", m);
  CHECK_THAT(s.message(), Catch::Contains("at least 2 points"));
  std::vector<float> bad = means;
  bad[3] = NAN;
  s = latent_map_from_means(bad.data(), labels.data(), 3, 2, "", m);
  CHECK_THAT(s.message(), Catch::Contains("point 1 is not finite"));
}

TEST_CASE("latent map: unproject(project(z)) on the plane through z gives z, and project(unproject(a, b)) gives (a, b)") {
  LatentMap m = stretched_map();
  const int Z = 4;
  const float z[Z] = {0.3f, -1.7f, 2.2f, 0.9f};
  float ab[2], back[Z];
  latent_map_project(m, z, Z, ab);
  latent_map_unproject(m, ab[0], ab[1], z, Z, back);
  for (int j = 0; j < Z; ++j) CHECK(back[j] == z[j]);

  // Same with an F16-rounded basis (rows no longer exactly orthonormal): still each other's inverse on the plane.
  for (float& u : m.basis) u = f16_to_f32(f32_to_f16(u));
  for (float a : {-4.f, 0.f, 2.5f})
    for (float b : {-1.f, 3.f}) {
      float ab2[2];
      latent_map_unproject(m, a, b, z, Z, back);
      latent_map_project(m, back, Z, ab2);
      CHECK(ab2[0] == Approx(a).margin(1e-5));
      CHECK(ab2[1] == Approx(b).margin(1e-5));
      // back - z lies in the plane: nothing of it is left after removing its components along u1 and u2.
      std::vector<double> d(Z);
      for (int j = 0; j < Z; ++j) d[size_t(j)] = double(back[j]) - z[j];
      const float* u1 = m.basis.data();
      const float* u2 = u1 + Z;
      const double c1 = dot(d, u1), c2 = dot(d, u2);
      double rest = 0;
      for (int j = 0; j < Z; ++j) rest += std::pow(d[size_t(j)] - c1 * u1[j] - c2 * u2[j], 2);
      CHECK(std::sqrt(rest) < 1e-2);
    }

  // z_out may be the through array itself.
  float inplace[Z] = {0.3f, -1.7f, 2.2f, 0.9f};
  latent_map_unproject(m, 1.f, -2.f, inplace, Z, inplace);
  float ab3[2];
  latent_map_project(m, inplace, Z, ab3);
  CHECK(ab3[0] == Approx(1.f).margin(1e-5));
  CHECK(ab3[1] == Approx(-2.f).margin(1e-5));
}

TEST_CASE("latent map: to_st/from_st round trip through a model file in F32 and F16, replacing an older map") {
  for (int Z : {2, 5}) {
    INFO("Z = " << Z);
    LatentMap map;
    StFile f = file_with_map(Z, &map);
    CHECK(f.meta("map.kind") == (Z == 2 ? "latent" : "pca"));
    CHECK(f.meta("map.source") == "synthetic, 20 points");
    CHECK(f.meta("dataset") == "mnist");
    CHECK(f.find("map.points")->shape == std::vector<int64_t>{20, 2});
    CHECK(f.find("map.labels")->shape == std::vector<int64_t>{20});
    if (Z > 2) {
      CHECK(f.find("map.center")->shape == std::vector<int64_t>{Z});
      CHECK(f.find("map.basis")->shape == std::vector<int64_t>{2, Z});
      CHECK(!f.meta("map.explained").empty());
    } else {
      CHECK(f.find("map.center") == nullptr);
      CHECK(f.meta("map.explained").empty());
    }

    // F32: exact.
    std::vector<uint8_t> bytes;
    REQUIRE(st_serialize(f, DType::F32, bytes).ok());
    StFile g;
    REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
    LatentMap back;
    Status s = latent_map_from_st(g, Z, back);
    REQUIRE(s.ok());
    CHECK(back.kind == map.kind);
    CHECK(back.points == map.points);
    CHECK(back.labels == map.labels);
    CHECK(back.center == map.center);
    CHECK(back.basis == map.basis);
    CHECK(back.source == map.source);
    CHECK(back.explained[0] == Approx(map.explained[0]).margin(1e-4));
    CHECK(back.explained[1] == Approx(map.explained[1]).margin(1e-4));
    Vae model;
    CHECK(model_from_st(g, model).ok());

    // F16: to half precision, labels exact; a new map written into an F16 file stays F16.
    REQUIRE(st_serialize(f, DType::F16, bytes).ok());
    REQUIRE(st_parse(bytes.data(), bytes.size(), g).ok());
    REQUIRE(latent_map_from_st(g, Z, back).ok());
    CHECK(back.labels == map.labels);
    for (size_t i = 0; i < map.points.size(); ++i)
      CHECK(back.points[i] == Approx(map.points[i]).epsilon(1e-3).margin(1e-3));
    latent_map_to_st(back, g);
    CHECK(st_file_dtype(g) == DType::F16);

    // Writing a map again replaces it (one set of tensors and keys); an empty map removes it.
    const size_t tensors = f.tensors.size(), keys = f.metadata.size();
    latent_map_to_st(map, f);
    CHECK(f.tensors.size() == tensors);
    CHECK(f.metadata.size() == keys);
    latent_map_to_st(LatentMap(), f);
    CHECK(f.tensors.size() == tensors - (Z == 2 ? 2 : 4));
    CHECK(f.meta("map.kind").empty());
    CHECK(f.meta("map.source").empty());
    CHECK(f.meta("dataset") == "mnist");
    back.kind = "stale";
    REQUIRE(latent_map_from_st(f, Z, back).ok());
    CHECK(back.kind.empty());
    CHECK(back.count() == 0);
  }
}

TEST_CASE("latent map: a model file carrying map.* tensors still loads, another unknown tensor is still refused") {
  StFile f = file_with_map(3);
  Vae m;
  REQUIRE(model_from_st(f, m).ok());
  CHECK(m.arch.Z == 3);
  CHECK(m.params == vae_make(tiny_arch(12, 3), 4).params);

  // Through the file, as the CLI and the studio read it.
  std::vector<uint8_t> bytes;
  REQUIRE(st_serialize(f, DType::F32, bytes).ok());
  Metadata meta;
  REQUIRE(model_parse(bytes.data(), bytes.size(), m, &meta).ok());
  CHECK(meta_get(meta, "map.kind") == "pca");

  StFile g = f;
  StTensor extra;
  extra.name = "decoder.extra";
  extra.shape = {2};
  extra.data = {1.f, 2.f};
  g.tensors.push_back(extra);
  Status s = model_from_st(g, m);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("unexpected tensor \"decoder.extra\""));

  // A name that merely contains "map." is not a map tensor.
  g = f;
  extra.name = "encoder.map.x";
  g.tensors.push_back(extra);
  CHECK_THAT(model_from_st(g, m).message(), Catch::Contains("unexpected tensor \"encoder.map.x\""));
}

TEST_CASE("latent map: malformed map tensors and metadata are refused with a message naming the problem") {
  const StFile good = file_with_map(3);
  {
    LatentMap m;
    REQUIRE(latent_map_from_st(good, 3, m).ok());
    StFile none = model_to_st(vae_make(tiny_arch(12, 3), 4), {});
    m.kind = "stale";
    REQUIRE(latent_map_from_st(none, 3, m).ok());
    CHECK(m.kind.empty());
  }
  StFile f = good;
  find_mut(f, "map.points")->shape = {10, 4};
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.points has shape (10, 4), needs (N, 2)"));

  f = good;
  find_mut(f, "map.points")->shape = {40};
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.points has shape (40,)"));

  f = good;
  find_mut(f, "map.labels")->shape = {19};
  find_mut(f, "map.labels")->data.pop_back();
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.labels has shape (19,), map.points (20, 2) needs (20,)"));

  f = good;
  find_mut(f, "map.labels")->data[4] = 3.5f;
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.labels[4] = 3.5 is not a whole number from 0 to 255"));
  find_mut(f, "map.labels")->data[4] = 256.f;
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.labels[4] = 256"));
  find_mut(f, "map.labels")->data[4] = -1.f;
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.labels[4] = -1"));

  f = good;
  find_mut(f, "map.points")->data[7] = INFINITY;
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.points[7] is not finite"));

  f = good;
  find_mut(f, "map.points")->data.pop_back();
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.points holds 39 values, its shape (20, 2) needs 40"));

  f = good;
  find_mut(f, "map.center")->shape = {4};
  find_mut(f, "map.center")->data.push_back(0.f);
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.center has shape (4,), the model's latent needs (3,)"));

  f = good;
  find_mut(f, "map.basis")->shape = {3, 2};
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.basis has shape (3, 2), the model's latent needs (2, 3)"));

  f = good;
  find_mut(f, "map.basis")->data = {1.f, 0.f, 0.f, 1.f, 0.f, 0.f};
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.basis rows are not orthonormal"));
  find_mut(f, "map.basis")->data = {2.f, 0.f, 0.f, 0.f, 1.f, 0.f};
  CHECK_THAT(refusal(f, 3), Catch::Contains("|u1| = 2"));

  f = good;
  f.tensors.erase(f.tensors.begin() + (find_mut(f, "map.basis") - f.tensors.data()));
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.basis missing for map.kind pca"));

  f = good;
  StTensor extra;
  extra.name = "map.colours";
  extra.shape = {1};
  extra.data = {0.f};
  f.tensors.push_back(extra);
  CHECK_THAT(refusal(f, 3), Catch::Contains("unexpected map tensor \"map.colours\""));

  f = good;
  f.set_meta("map.kind", "tsne");
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.kind \"tsne\" is not latent or pca"));
  f.set_meta("map.kind", "latent");
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.kind latent needs a 2-D latent, the model's has 3"));
  f = good;
  for (size_t i = 0; i < f.metadata.size(); ++i)
    if (f.metadata[i].first == "map.kind") f.metadata.erase(f.metadata.begin() + std::ptrdiff_t(i));
  CHECK_THAT(refusal(f, 3), Catch::Contains("map tensors without map.kind"));

  f = good;
  f.set_meta("map.explained", "0.3;0.2");
  CHECK_THAT(refusal(f, 3), Catch::Contains("map.explained \"0.3;0.2\" is not two fractions"));
  f.set_meta("map.explained", "0.3,1.2");
  CHECK_THAT(refusal(f, 3), Catch::Contains("is not two fractions"));

  // The map of a 3-D model read for another latent size, and a latent map carrying a basis.
  CHECK_THAT(refusal(good, 4), Catch::Contains("map.center has shape (3,), the model's latent needs (4,)"));
  CHECK_THAT(refusal(good, 2), Catch::Contains("map.kind pca needs a latent of more than 2 dimensions"));
  StFile lat = file_with_map(2);
  StTensor basis = *good.find("map.basis");
  lat.tensors.push_back(basis);
  CHECK_THAT(refusal(lat, 2), Catch::Contains("map.basis belongs to map.kind pca, not latent"));
}

TEST_CASE("latent map: compute encodes the first N images in batches and copies their labels") {
  const int D = 12, count = 2300;
  Dataset ds;
  ds.name = "synthetic-test";
  ds.count = count;
  ds.rows = 3;
  ds.cols = 4;
  Pcg32 rng(9, 1);
  for (int i = 0; i < count * D; ++i) ds.images.push_back(rng.uniform());
  for (int i = 0; i < count; ++i) ds.labels.push_back(uint8_t((i * 7) % 10));

  for (int Z : {2, 3}) {
    INFO("Z = " << Z);
    const Vae model = vae_make(tiny_arch(D, Z), 21);
    LatentMap m;
    REQUIRE(latent_map_compute(model, ds, 2100, m).ok());  // three encoder passes: 1000, 1000, 100
    CHECK(m.kind == (Z == 2 ? "latent" : "pca"));
    REQUIRE(m.count() == 2100);
    REQUIRE(m.points.size() == 2 * 2100u);
    CHECK(m.source == "synthetic-test, posterior means, 2100 images");
    for (int i = 0; i < 2100; ++i) REQUIRE(m.labels[size_t(i)] == ds.labels[size_t(i)]);
    // Each point is the map position of that image's encoder mean, computed alone.
    Workspace ws;
    for (int i : {0, 999, 1000, 2099}) {
      vae_encode(model, Eigen::Map<const Matrix>(ds.image(i), D, 1), ws);
      float ab[2];
      latent_map_project(m, ws.mu.data(), Z, ab);
      CHECK(m.points[size_t(2 * i)] == Approx(ab[0]).margin(1e-5));
      CHECK(m.points[size_t(2 * i + 1)] == Approx(ab[1]).margin(1e-5));
    }

    REQUIRE(latent_map_compute(model, ds, 1000000, m).ok());
    CHECK(m.count() == count);
  }

  LatentMap m;
  Status s = latent_map_compute(vae_make(tiny_arch(15, 3), 1), ds, 100, m);
  CHECK_THAT(s.message(), Catch::Contains("synthetic-test images have 12 pixels, the model takes 15"));
  s = latent_map_compute(vae_make(tiny_arch(D, 3), 1), ds, 0, m);
  CHECK_THAT(s.message(), Catch::Contains("no images"));
  s = latent_map_compute(vae_make(tiny_arch(D, 1), 1), ds, 100, m);
  CHECK_THAT(s.message(), Catch::Contains("at least 2 dimensions"));
}
