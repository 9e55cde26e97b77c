// The recording writer: one thread per engine that opens, writes and closes WAV files so that no
// worker ever touches the disk.
//
// Workers call open() when a record() starts, write() with blocks of interleaved 16-bit samples
// (8 kHz; 1 channel, or 2 with left = received from the peer, right = sent to the peer), and
// close() when it ends; each returns at once. The writer thread reports every recording exactly
// once: on_record_done after sf_close() (length = samples written), or on_record_failed as soon
// as the file cannot be created, or at close when a write failed (disk full).
//
// Thread rules: open/write/close are thread-safe (a mutex-protected queue and a condition
// variable); the files and libsndfile handles belong to the writer thread. The destructor writes
// and closes everything still queued, then joins.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "media/engine.h"

namespace tamas::media {

class RecordWriter {
 public:
  explicit RecordWriter(Listener* listener);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Returns the job id to pass to write() and close().
  uint64_t open(SessionId session, uint64_t record_id, std::string path, int channels);
  void write(uint64_t job, std::vector<int16_t> interleaved);
  void close(uint64_t job);

 private:
  struct Message {
    enum class Kind : uint8_t { kOpen, kWrite, kClose };
    Kind kind = Kind::kWrite;
    uint64_t job = 0;
    SessionId session = 0;
    uint64_t record_id = 0;
    int channels = 1;
    std::string path;
    std::vector<int16_t> samples;
  };
  void post(Message m);
  void run();

  Listener* const listener_;  // borrowed; outlives the engine
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Message> queue_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  uint64_t next_job_ = 1;      // guarded by mutex_
  std::thread thread_;
};

}  // namespace tamas::media
