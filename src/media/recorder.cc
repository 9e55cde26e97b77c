// The recording writer thread. See recorder.h.
#include "media/recorder.h"

#include <sndfile.h>

#include <unordered_map>

#include "media/g711.h"

namespace tamas::media {

RecordWriter::RecordWriter(Listener* listener) : listener_(listener) {
  thread_ = std::thread([this] { run(); });
}

RecordWriter::~RecordWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

uint64_t RecordWriter::open(SessionId session, uint64_t record_id, std::string path, int channels) {
  uint64_t job;
  {
    std::lock_guard lock(mutex_);
    job = next_job_++;
  }
  Message m;
  m.kind = Message::Kind::kOpen;
  m.job = job;
  m.session = session;
  m.record_id = record_id;
  m.channels = channels;
  m.path = std::move(path);
  post(std::move(m));
  return job;
}

void RecordWriter::write(uint64_t job, std::vector<int16_t> interleaved) {
  Message m;
  m.kind = Message::Kind::kWrite;
  m.job = job;
  m.samples = std::move(interleaved);
  post(std::move(m));
}

void RecordWriter::close(uint64_t job) {
  Message m;
  m.kind = Message::Kind::kClose;
  m.job = job;
  post(std::move(m));
}

void RecordWriter::post(Message m) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(m));
  }
  wake_.notify_one();
}

void RecordWriter::run() {
  struct File {
    SNDFILE* sf = nullptr;
    SessionId session = 0;
    uint64_t record_id = 0;
    int channels = 1;
    std::string path;
    uint64_t frames = 0;
    std::string error;  // set by a failed write; reported at close
  };
  std::unordered_map<uint64_t, File> files;
  std::deque<Message> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) break;
      batch.swap(queue_);
    }
    for (auto& m : batch) {
      switch (m.kind) {
        case Message::Kind::kOpen: {
          SF_INFO info{};
          info.samplerate = kSampleRate;
          info.channels = m.channels;
          info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
          SNDFILE* sf = sf_open(m.path.c_str(), SFM_WRITE, &info);
          if (sf == nullptr) {
            listener_->on_record_failed(m.session, m.record_id, m.path,
                                        "cannot create " + m.path + ": " + sf_strerror(nullptr));
            break;  // later writes and the close for this job find nothing and are dropped
          }
          files[m.job] = File{sf, m.session, m.record_id, m.channels, std::move(m.path), 0, {}};
          break;
        }
        case Message::Kind::kWrite: {
          auto it = files.find(m.job);
          if (it == files.end() || !it->second.error.empty()) break;
          File& f = it->second;
          const auto frames = static_cast<sf_count_t>(m.samples.size()) / f.channels;
          const sf_count_t done = sf_writef_short(f.sf, m.samples.data(), frames);
          f.frames += static_cast<uint64_t>(done < 0 ? 0 : done);
          if (done != frames) f.error = "write to " + f.path + " failed: " + sf_strerror(f.sf);
          break;
        }
        case Message::Kind::kClose: {
          auto it = files.find(m.job);
          if (it == files.end()) break;
          File f = std::move(it->second);
          files.erase(it);
          const int rc = sf_close(f.sf);
          if (f.error.empty() && rc != 0) f.error = "closing " + f.path + " failed";
          if (!f.error.empty()) {
            listener_->on_record_failed(f.session, f.record_id, f.path, f.error);
          } else {
            listener_->on_record_done(
                f.session, f.record_id, f.path,
                Duration(static_cast<int64_t>(f.frames * 1000 / kSampleRate)));
          }
          break;
        }
      }
    }
    batch.clear();
  }
  // Files the workers never closed (cannot happen when the engine closes sessions first).
  for (auto& [job, f] : files) sf_close(f.sf);
}

}  // namespace tamas::media
