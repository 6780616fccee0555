#include "flame/profile/detail/profile_journal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "flame/io/atomic_write.hpp"

namespace flame::profile {
namespace {

using json = nlohmann::json;

json clocks_json(const Clocks& c) {
  return {{"cpu_khz", c.cpu_khz}, {"gpu_hz", c.gpu_hz}, {"emc_hz", c.emc_hz}};
}

Clocks clocks_from(const json& j) {
  Clocks c;
  c.cpu_khz = j.at("cpu_khz").get<double>();
  c.gpu_hz = j.at("gpu_hz").get<double>();
  c.emc_hz = j.at("emc_hz").get<double>();
  return c;
}

json workloads_json(const std::vector<PlanWorkload>& w) {
  json out = json::array();
  for (const auto& x : w) out.push_back({{"phase", x.phase}, {"ctx", x.ctx}});
  return out;
}

json header_json(const JournalHeader& h) {
  json plan = json::array();
  for (const auto& c : h.plan) plan.push_back(clocks_json(c));
  return {{"format", kJournalFormat},
          {"version", kJournalVersion},
          {"mode", to_string(h.mode)},
          {"warmup", h.warmup},
          {"model", h.model},
          {"command", h.command},
          {"workloads", workloads_json(h.workloads)},
          {"budget", h.budget},
          {"seed", h.seed},
          {"grid", {{"cpu_khz", h.grid.cpu_khz}, {"gpu_hz", h.grid.gpu_hz}, {"emc_hz", h.grid.emc_hz}}},
          {"plan", plan}};
}

JournalHeader header_from(const json& j) {
  if (j.value("format", "") != kJournalFormat)
    throw std::runtime_error(
        fmt::format("not a flame profile journal (format is not \"{}\")", kJournalFormat));
  if (j.value("version", 0) != kJournalVersion)
    throw std::runtime_error(fmt::format("journal version {} is not supported (this flame writes {})",
                                         j.value("version", 0), kJournalVersion));
  JournalHeader h;
  if (j.contains("mode")) {  // journals written before --e2e are layer-wise
    const auto mode = j.at("mode").get<std::string>();
    if (mode == to_string(ProfileMode::EndToEnd))
      h.mode = ProfileMode::EndToEnd;
    else if (mode != to_string(ProfileMode::Layerwise))
      throw std::runtime_error(fmt::format("mode: expected \"layerwise\" or \"e2e\", got \"{}\"", mode));
  }
  h.warmup = j.value("warmup", std::size_t{0});
  h.model = j.at("model").get<std::string>();
  h.command = j.at("command").get<std::vector<std::string>>();
  for (const auto& w : j.at("workloads")) {
    PlanWorkload x{w.at("phase").get<std::string>(), w.at("ctx").get<int>()};
    if ((x.phase != "decode" && x.phase != "prefill") || x.ctx <= 0)
      throw std::runtime_error("workloads: expected a phase (decode or prefill) and a positive ctx");
    h.workloads.push_back(x);
  }
  h.budget = j.at("budget").get<std::size_t>();
  h.seed = j.at("seed").get<std::uint64_t>();
  const json& g = j.at("grid");
  h.grid.cpu_khz = g.at("cpu_khz").get<std::vector<double>>();
  h.grid.gpu_hz = g.at("gpu_hz").get<std::vector<double>>();
  h.grid.emc_hz = g.at("emc_hz").get<std::vector<double>>();
  for (const auto& c : j.at("plan")) h.plan.push_back(clocks_from(c));
  if (!h.workloads.empty() && h.workloads.size() != h.plan.size())
    throw std::runtime_error(
        fmt::format("workloads: {} of them for a plan of {} steps", h.workloads.size(), h.plan.size()));
  return h;
}

// A segment's traits beside its times (absent keys: not known, as in journals written before them).
void traits_json(const model::SegmentTraits& t, json& seg) {
  if (!t.type.empty()) seg["type"] = t.type;
  seg["kernels"] = t.n_kernels;
  if (const auto& f = t.features)
    seg["features"] = {{"macs", f->macs},
                       {"flops", f->flops},
                       {"bytes_in", f->bytes_in},
                       {"bytes_out", f->bytes_out},
                       {"param_bytes", f->param_bytes}};
}

model::SegmentTraits traits_from(const json& seg) {
  model::SegmentTraits t;
  t.type = seg.value("type", std::string());
  t.n_kernels = seg.value("kernels", 0);
  if (seg.contains("features")) {
    const json& f = seg.at("features");
    t.features = model::SegmentFeatures{f.at("macs").get<double>(), f.at("flops").get<double>(),
                                        f.at("bytes_in").get<double>(), f.at("bytes_out").get<double>(),
                                        f.at("param_bytes").get<double>()};
  }
  return t;
}

json record_json(const StepRecord& r) {
  json workloads = json::array();
  for (const auto& w : r.workloads) {
    json segments = json::array();
    for (size_t i = 0; i < w.trace_run.run.cpu_ns.size(); ++i) {
      json seg{{"name", i < w.trace_run.names.size() ? w.trace_run.names[i] : ""},
               {"cpu_ns", w.trace_run.run.cpu_ns[i]},
               {"gpu_ns", w.trace_run.run.gpu_ns[i]}};
      if (i < w.trace_run.traits.size()) traits_json(w.trace_run.traits[i], seg);
      segments.push_back(std::move(seg));
    }
    workloads.push_back({{"ctx", w.ctx},
                         {"phase", w.phase},
                         {"trace", w.trace},
                         {"iterations", w.trace_run.iterations},
                         {"e2e_ns", w.trace_run.run.e2e_median_ns},
                         {"sync_ns", w.trace_run.run.sync_ns},
                         {"segments", segments}});
  }
  json out{{"step", r.step},
           {"requested", clocks_json(r.requested)},
           {"applied", clocks_json(r.applied)},
           {"observed", clocks_json(r.observed)},
           {"settle_s", r.settle_s},
           {"command_s", r.command_s},
           {"power_mw", r.power_mw ? json(*r.power_mw) : json(nullptr)},
           {"power_samples", r.power_samples},
           {"power_window", to_string(r.power_window)},
           {"workloads", workloads}};
  if (r.e2e)
    out["e2e"] = {{"latencies_ms", r.e2e->latencies_ms},
                  {"warmup_dropped", r.e2e->warmup_dropped},
                  {"median_ms", r.e2e->median_ms}};
  return out;
}

StepRecord record_from(const json& j) {
  StepRecord r;
  r.step = j.at("step").get<std::size_t>();
  r.requested = clocks_from(j.at("requested"));
  r.applied = clocks_from(j.at("applied"));
  r.observed = clocks_from(j.at("observed"));
  r.settle_s = j.at("settle_s").get<double>();
  r.command_s = j.at("command_s").get<double>();
  if (!j.at("power_mw").is_null()) r.power_mw = j.at("power_mw").get<double>();
  r.power_samples = j.at("power_samples").get<int>();
  if (j.contains("power_window")) {  // journals written before it existed averaged the whole command
    const auto w = power_window_from(j.at("power_window").get<std::string>());
    if (!w) throw std::runtime_error("power_window: expected \"iterations\" or \"command\"");
    r.power_window = *w;
  }
  for (const auto& w : j.at("workloads")) {
    WorkloadResult out;
    out.ctx = w.at("ctx").get<int>();
    out.phase = w.value("phase", std::string());
    out.trace = w.at("trace").get<std::string>();
    out.trace_run.iterations = w.at("iterations").get<int>();
    out.trace_run.run.e2e_median_ns = w.at("e2e_ns").get<double>();
    out.trace_run.run.sync_ns = w.at("sync_ns").get<double>();
    for (const auto& s : w.at("segments")) {
      out.trace_run.names.push_back(s.at("name").get<std::string>());
      out.trace_run.run.cpu_ns.push_back(s.at("cpu_ns").get<double>());
      out.trace_run.run.gpu_ns.push_back(s.at("gpu_ns").get<double>());
      out.trace_run.traits.push_back(traits_from(s));
    }
    // A journal written before traits has none: unknown, not zero kernels.
    if (!w.at("segments").empty() && !w.at("segments").front().contains("kernels"))
      out.trace_run.traits.clear();
    r.workloads.push_back(std::move(out));
  }
  if (j.contains("e2e")) {
    const json& e = j.at("e2e");
    EndToEndResult x;
    x.latencies_ms = e.at("latencies_ms").get<std::vector<double>>();
    x.warmup_dropped = e.at("warmup_dropped").get<std::size_t>();
    x.median_ms = e.at("median_ms").get<double>();
    if (x.latencies_ms.empty() || !(x.median_ms > 0))
      throw std::runtime_error("e2e: a step needs its latencies and their median");
    r.e2e = std::move(x);
  }
  return r;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f)
    throw std::runtime_error(
        fmt::format("{}: cannot read the journal: {}", p.string(), std::strerror(errno)));
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Appends one line and fsyncs it. Not an atomic replace (flame/io/atomic_write.hpp): the journal
// grows by a step at a time, and rewriting the whole file per step would cost the whole file each
// time. A crash can tear only the last line, which parse_journal reports and resume drops.
void write_line(const std::filesystem::path& p, const std::string& line, bool create) {
  const int flags = O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_EXCL : O_APPEND);
  const int fd = ::open(p.c_str(), flags, 0644);
  if (fd < 0)
    throw std::runtime_error(
        fmt::format("{}: cannot write the journal: {}", p.string(), std::strerror(errno)));
  const std::string text = line + "\n";
  size_t done = 0;
  int err = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (err)
    throw std::runtime_error(fmt::format("{}: cannot write the journal: {}", p.string(), std::strerror(err)));
}

}  // namespace

std::string_view to_string(ProfileMode m) {
  return m == ProfileMode::EndToEnd ? "e2e" : "layerwise";
}

std::string header_line(const JournalHeader& h) {
  return header_json(h).dump();
}
std::string record_line(const StepRecord& r) {
  return record_json(r).dump();
}

JournalContents parse_journal(const std::string& text, const std::string& source) {
  JournalContents out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const bool last_torn = in.eof() && !text.empty() && text.back() != '\n';
    try {
      const json j = json::parse(line);
      if (!have_header) {
        out.header = header_from(j);
        have_header = true;
        continue;
      }
      StepRecord r = record_from(j);
      if (r.step >= out.header.plan.size())
        throw std::runtime_error(
            fmt::format("step {} is not in the plan ({} steps)", r.step, out.header.plan.size()));
      for (const auto& done : out.steps)
        if (done.step == r.step) throw std::runtime_error(fmt::format("step {} is recorded twice", r.step));
      out.steps.push_back(std::move(r));
    } catch (const std::exception& e) {
      if (last_torn && have_header) {
        out.notes.push_back(
            fmt::format("{}:{}: dropped a torn last line (written when the run stopped)", source, number));
        break;
      }
      throw std::runtime_error(fmt::format("{}:{}: {}", source, number, e.what()));
    }
  }
  if (!have_header) throw std::runtime_error(fmt::format("{}: empty journal (no header line)", source));
  return out;
}

std::string header_mismatch(const JournalHeader& a, const JournalHeader& b) {
  std::vector<std::string> diff;
  if (a.mode != b.mode)
    diff.push_back(fmt::format("the mode ({} there, {} now)", to_string(a.mode), to_string(b.mode)));
  if (a.warmup != b.warmup) diff.push_back(fmt::format("--warmup ({} there, {} now)", a.warmup, b.warmup));
  if (a.model != b.model)
    diff.push_back(fmt::format("the model name ('{}' there, '{}' now)", a.model, b.model));
  if (a.command != b.command)
    diff.push_back(fmt::format("the command ('{}' there, '{}' now)", fmt::join(a.command, " "),
                               fmt::join(b.command, " ")));
  if (a.workloads != b.workloads) diff.push_back("the SLM phases and context lengths");
  if (a.budget != b.budget) diff.push_back(fmt::format("the budget ({} there, {} now)", a.budget, b.budget));
  if (a.seed != b.seed) diff.push_back(fmt::format("the seed ({} there, {} now)", a.seed, b.seed));
  if (a.grid.cpu_khz != b.grid.cpu_khz || a.grid.gpu_hz != b.grid.gpu_hz || a.grid.emc_hz != b.grid.emc_hz)
    diff.push_back("the board's clock tables");
  else if (a.plan != b.plan)
    diff.push_back("the sampling plan");
  return diff.empty() ? "" : fmt::format("{}", fmt::join(diff, ", "));
}

Journal Journal::create(const std::filesystem::path& path, const JournalHeader& header) {
  if (std::filesystem::exists(path))
    throw std::runtime_error(fmt::format(
        "{} exists: an earlier profiling run left it. Continue that run with --resume, or remove it (or "
        "choose another --work-dir) to start over",
        path.string()));
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  write_line(path, header_line(header), /*create=*/true);
  JournalContents c;
  c.header = header;
  return Journal(path, std::move(c));
}

Journal Journal::resume(const std::filesystem::path& path, const JournalHeader& header) {
  if (!std::filesystem::exists(path))
    throw std::runtime_error(fmt::format(
        "--resume: there is no journal at {} (nothing to resume; run without --resume)", path.string()));
  JournalContents c = parse_journal(read_file(path), path.string());
  const std::string diff = header_mismatch(c.header, header);
  if (!diff.empty())
    throw std::runtime_error(fmt::format(
        "--resume: {} belongs to a different run: {} differ. Resume with the same arguments, or remove it to "
        "start over",
        path.string(), diff));
  if (!c.notes.empty()) {
    // Rewrite without the torn line so that appends start on a line of their own. A whole-file
    // rewrite, so it replaces the journal atomically: a crash leaves the old or the new journal.
    std::string text = header_line(c.header) + "\n";
    for (const auto& s : c.steps) text += record_line(s) + "\n";
    io::write_file_atomically(path, text);
  }
  return Journal(path, std::move(c));
}

void Journal::append(const StepRecord& r) {
  write_line(path_, record_line(r), /*create=*/false);
  contents_.steps.push_back(r);
}

}  // namespace flame::profile
