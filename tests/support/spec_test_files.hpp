#pragma once
// Finding the JSON files of a specification test folder, for runners that make one gtest per
// file. A runner takes its folders from an environment variable (several separated by ':'),
// defaulting to folders under MONGOSLICE_SPEC_TESTS_DIR, so the same runner can be pointed at
// other folders of the same format. Exclusions are by file name, each with its reason.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace mongoslice::test {

struct SpecFile {
  std::filesystem::path path;
  std::string name;              // readable and unique among the runner's tests: "rs_new_primary"
  std::string excluded_because;  // empty when the file runs

  friend void PrintTo(const SpecFile& f, std::ostream* os) { *os << f.path.string(); }
};

// The folders to run: $env_var (':'-separated) if set, else `defaults` (relative to the spec
// test root).
inline std::vector<std::filesystem::path> spec_folders(const char* env_var,
                                                       const std::vector<std::string>& defaults) {
  std::vector<std::filesystem::path> out;
  if (const char* value = std::getenv(env_var); value && *value) {
    std::stringstream list(value);
    for (std::string dir; std::getline(list, dir, ':');) {
      if (!dir.empty()) out.emplace_back(dir);
    }
    return out;
  }
  for (const std::string& d : defaults) {
    out.push_back(std::filesystem::path(MONGOSLICE_SPEC_TESTS_DIR) / d);
  }
  return out;
}

inline std::string test_name_part(std::string_view text) {
  std::string out;
  for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

// Every *.json file of `folders`, sorted, named "<folder>_<file stem>" (with the last
// `name_depth` components of the folder's path, for runners whose folders share a name); files
// whose name is a key of `exclusions` carry the reason. A folder that does not exist yields a
// file entry that fails, so a wrong path cannot pass silently.
inline std::vector<SpecFile> spec_files(const std::vector<std::filesystem::path>& folders,
                                        const std::map<std::string, std::string>& exclusions,
                                        int name_depth = 1) {
  std::vector<SpecFile> out;
  for (const auto& folder : folders) {
    std::vector<std::filesystem::path> paths;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
      if (entry.path().extension() == ".json") paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());
    std::string prefix;
    std::filesystem::path rest = folder;
    while (rest.filename().empty() && rest.has_parent_path() && rest != rest.parent_path()) {
      rest = rest.parent_path();  // "dir/" names the same folder as "dir"
    }
    for (int i = 0; i < name_depth && !rest.filename().empty(); ++i) {
      std::string part = test_name_part(rest.filename().string());
      prefix = prefix.empty() ? part : part + "_" + prefix;
      rest = rest.parent_path();
    }
    if (paths.empty()) {
      out.push_back({folder, prefix + "_missing_folder", ""});
      continue;
    }
    for (const auto& p : paths) {
      SpecFile f{p, prefix + "_" + test_name_part(p.stem().string()), ""};
      if (auto it = exclusions.find(p.filename().string()); it != exclusions.end()) {
        f.excluded_because = it->second;
      }
      out.push_back(std::move(f));
    }
  }
  return out;
}

inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Prints, when the tests run (not when they are only listed), how many files each folder has
// and which are excluded and why.
class SpecCountsPrinter : public ::testing::Environment {
 public:
  SpecCountsPrinter(std::string runner, std::vector<SpecFile> files)
      : runner_(std::move(runner)), files_(std::move(files)) {}

  void SetUp() override {
    std::map<std::string, std::pair<int, int>> per_folder;  // folder -> (run, excluded)
    for (const SpecFile& f : files_) {
      auto& counts = per_folder[f.path.parent_path().string()];
      (f.excluded_because.empty() ? counts.first : counts.second)++;
    }
    for (const auto& [folder, counts] : per_folder) {
      std::cout << "[" << runner_ << "] " << folder << ": " << counts.first << " files run, "
                << counts.second << " excluded\n";
    }
    for (const SpecFile& f : files_) {
      if (!f.excluded_because.empty()) {
        std::cout << "[" << runner_ << "]   excluded " << f.path.filename().string() << ": "
                  << f.excluded_because << "\n";
      }
    }
  }

 private:
  std::string runner_;
  std::vector<SpecFile> files_;
};

// Test names for INSTANTIATE_TEST_SUITE_P.
struct SpecFileName {
  std::string operator()(const ::testing::TestParamInfo<SpecFile>& info) const {
    return info.param.name;
  }
};

}  // namespace mongoslice::test
