// Replays a vector file (sim/vectors.py) on the Verilated core and reports mismatches by beat.
//
// The file is one command per line. Stream beats (payloads in hexadecimal, each with the cycles
// to wait before it is offered or, for outputs, before the consumer is ready for it):
//   p HEX DELAY      a parameter beat (i_param)
//   pset             the parameter beats that follow are the next parameter set (the first
//                    set, 0, needs no pset)
//   f                the input beats that follow belong to the next frame
//   i HEX DELAY      an input beat (i)
//   o HEX DELAY      an expected output beat (o): DELAY cycles of ready low, then ready
//   e                the last expected output beat so far ends a frame: the cycle it arrives
//                    on is reported ("frame_ends" in the summary)
//   u                the gradient beats that follow belong to the next mask update
//   g HEX DELAY      a gradient beat (i_grad; cores with learning units)
// Settings: "max_cycles N" (the watchdog: cycles one run of the program may take),
// "read_latency N", "linger N" (cycles the consumer stays ready after the last expected beat,
// to see extra beats). Everything else is the host's program, run in order, one command at a
// time:
//   w ADDR DATA          register write (one cycle)
//   r ADDR EXPECT MASK   register read; (data & MASK) must equal EXPECT
//   rd ADDR              register read; the value is printed ("read ADDR VALUE")
//   idle ADDR MASK       read ADDR until (data & MASK) == 0
//   until ADDR MASK VAL  read ADDR until (data & MASK) == VAL (FRAMES_STARTED: a frame started)
//   params [N]           offer every parameter beat of set N (default 0; again, from the
//                        first, each time); wait until all are taken
//   release N            frames up to N may be offered
//   started N            wait until the first beat of frame N was taken at the port (the
//                        frame may start later: FRAMES_STARTED says when it did)
//   sent N               wait until every beat of frame N was taken
//   grads N              updates up to N may be offered
//   gsent N              wait until every beat of update N was taken
//   outputs              wait until every expected output beat arrived, and linger
//   reset N              rst high for N cycles (the streams go on being offered)
//   abort                drop every input and gradient beat not yet taken, every expected
//                        output beat not yet arrived ("aborted" in the summary) and a
//                        parameter load under way, before this cycle's beats are offered:
//                        right after a reset in mid-frame, nothing more of them is sent
//   tick N               N idle cycles
// The summary goes to stdout as one JSON object; the first mismatches before it, one per line.
// A frame whose output beats all matched is "exact" (frames_done counts the frames whose last
// beat arrived, frames_bad those of them with a mismatch).
//
// With "-" for the file, commands come from stdin and the harness runs as a server: every line
// "sync" runs the program received so far to its end, then prints the reads of its "rd"
// commands and a line "sync CYCLES ERRORS HANG MISMATCHES EXTRA MISSING READ_MISMATCHES
// FRAMES_DONE FRAMES_BAD ABORTED HANGS" (HANG: this program's, HANGS: every program's) and
// flushes. The summary follows at the end of the input. The stream state (beats offered, taken,
// compared) carries over from one program to the next; a program the watchdog stops is
// abandoned there, and the next one runs.

#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "verilated.h"
#include "Vpadmask_core.h"
#include "Vpadmask_core___024root.h"

typedef std::vector<uint32_t> Bits;   // little-endian 32-bit words

static Bits parse_hex(const std::string &hex) {
    Bits bits;
    for (int end = (int)hex.size(); end > 0; end -= 8) {
        int start = end > 8 ? end - 8 : 0;
        bits.push_back((uint32_t)std::stoul(hex.substr(start, end - start), nullptr, 16));
    }
    return bits;
}

static std::string to_hex(const Bits &bits) {
    std::string out;
    char word[9];
    for (int i = (int)bits.size() - 1; i >= 0; i--) {
        snprintf(word, sizeof word, i == (int)bits.size() - 1 ? "%x" : "%08x", bits[i]);
        out += word;
    }
    return out;
}

// port access for every width Verilator uses: 8/16/32/64-bit integers and VlWide
template <typename T> static void put(T &port, const Bits &bits) {
    uint64_t value = 0;
    for (size_t i = 0; i < bits.size() && i < 2; i++) value |= (uint64_t)bits[i] << (32 * i);
    port = (T)value;
}
template <std::size_t N> static void put(VlWide<N> &port, const Bits &bits) {
    for (std::size_t i = 0; i < N; i++) port[i] = i < bits.size() ? bits[i] : 0;
}
template <typename T> static Bits get(const T &port, size_t words) {
    uint64_t value = (uint64_t)port;
    Bits bits;
    for (size_t i = 0; i < words; i++) bits.push_back(i < 2 ? (uint32_t)(value >> (32 * i)) : 0);
    return bits;
}
template <std::size_t N> static Bits get(const VlWide<N> &port, size_t words) {
    Bits bits;
    for (size_t i = 0; i < words; i++) bits.push_back(i < N ? port[i] : 0);
    return bits;
}

struct Beat {
    Bits data;
    long delay;
    int group;   // the frame (input beats) or update (gradient beats) it belongs to; for
                 // output beats, 1 if it ends a frame
};

struct Command {
    std::string op;
    std::vector<uint64_t> args;
    int code;   // op, decoded once (Op)
};

enum Op { W, R, RD, IDLE, UNTIL, PARAMS, RELEASE, GRADS, STARTED, SENT, GSENT, OUTPUTS, RESET,
          TICK, ABORT, UNKNOWN };

static int op_code(const std::string &op) {
    static const char *const names[] = {"w", "r", "rd", "idle", "until", "params", "release",
                                        "grads",
                                        "started", "sent", "gsent", "outputs", "reset", "tick",
                                        "abort"};
    for (int i = 0; i < UNKNOWN; i++)
        if (op == names[i]) return i;
    return UNKNOWN;
}

// One eval a cycle. Every output the harness samples is a register (the skid buffers' ready
// is ~full, the output FIFO's valid and data and the bus's read data are registers), so what
// they show after the last edge is what an eval with the clock low and this cycle's inputs
// would show: that eval matters only to the model's edge detection. Where this Verilator keeps
// the clock's previous value in the model, the harness clears it, and one eval with the clock
// high and the new inputs runs the edge; otherwise (another Verilator) it evaluates twice,
// clock low then high.
template <typename Root>
static auto arm_edge(Root *root, int) -> decltype(root->__Vtrigprevexpr___TOP__clk__0 = 0, true) {
    root->__Vtrigprevexpr___TOP__clk__0 = 0;
    return true;
}
template <typename Root> static bool arm_edge(Root *, long) { return false; }

template <typename T> static void get_into(Bits &bits, const T &port) {
    uint64_t value = (uint64_t)port;
    for (size_t i = 0; i < bits.size(); i++) bits[i] = i < 2 ? (uint32_t)(value >> (32 * i)) : 0;
}
template <std::size_t N> static void get_into(Bits &bits, const VlWide<N> &port) {
    for (size_t i = 0; i < bits.size(); i++) bits[i] = i < N ? port[i] : 0;
}

// A stream the harness offers: beats released by group, each after its delay.
struct Source {
    std::vector<Beat> beats;
    std::vector<size_t> first;   // index of each group's first beat
    size_t next = 0;
    long wait = 0;
    int released = -1;

    bool offered() const {
        return next < beats.size() && wait == 0 && beats[next].group <= released;
    }
    void advance(bool taken) {
        if (taken) {
            next++;
            wait = next < beats.size() ? beats[next].delay : 0;
        } else if (wait > 0 && next < beats.size() && beats[next].group <= released) {
            wait--;
        }
    }
    void add(const Beat &beat) {
        if (next == beats.size()) wait = beat.delay;   // (the next beat to offer)
        beats.push_back(beat);
    }
    bool started(size_t group) const { return group >= first.size() || next > first[group]; }
    bool sent(size_t group) const {
        return next >= (group + 1 < first.size() ? first[group + 1] : beats.size());
    }
};

struct Harness {
    VerilatedContext context;
    Vpadmask_core top{&context};
    size_t out_words = (sizeof(top.o___05Fpayload) + 3) / 4;

    std::vector<std::vector<Beat>> param_sets{{}};
    std::vector<Beat> outputs;
    size_t param_set = 0;   // the set being loaded
    const std::vector<Beat> *params = nullptr;   // (it, while a program runs)
    Source inputs, grads;
    std::vector<Command> program;
    long max_cycles = 1000000, read_latency = 2, linger = 40;

    long cycle = 0;
    size_t param_next = 0, out_next = 0;
    long param_wait = 0, out_wait = 0;
    bool params_on = false;
    long mismatches = 0, extra = 0, read_mismatches = 0, linger_left = -1;
    long frames_done = 0, frames_bad = 0, aborted = 0, hangs = 0;
    bool frame_bad = false;   // a beat of the frame arriving now mismatched
    int reported = 0;
    bool hang = false;        // the program being run (or the last one) hung
    double seconds = 0;
    std::vector<std::pair<uint64_t, uint32_t>> reads;   // "rd" results of this program
    std::vector<long> frame_ends;                        // cycles of the "e" beats

    // host state: the command being run and its step
    size_t pc = 0;
    long step = 0;

    Harness() {
        top.rst = 1;   // a reset cycle first, as every simulation starts
        top.clk = 0;
        top.eval();
        top.clk = 1;
        top.eval();
        top.rst = 0;
    }

    // one line of the vector file
    void parse(const std::string &line) {
        std::istringstream words(line);
        std::string op;
        if (!(words >> op) || op[0] == '#') return;
        if (op == "p" || op == "i" || op == "o" || op == "g") {
            std::string hex;
            long delay = 0;
            words >> hex >> delay;
            if (op == "p") {
                param_sets.back().push_back({parse_hex(hex), delay, 0});
            } else if (op == "o") {
                if (out_next == outputs.size()) out_wait = delay;
                outputs.push_back({parse_hex(hex), delay, 0});
                outputs.back().data.resize(out_words, 0);   // (compared on out_words)
            } else {
                Source &source = op == "i" ? inputs : grads;
                source.add({parse_hex(hex), delay, (int)source.first.size() - 1});
            }
        } else if (op == "pset") {
            param_sets.emplace_back();
        } else if (op == "e") {
            if (!outputs.empty()) outputs.back().group = 1;
        } else if (op == "f" || op == "u") {
            Source &source = op == "f" ? inputs : grads;
            source.first.push_back(source.beats.size());
        } else if (op == "max_cycles") {
            words >> max_cycles;
        } else if (op == "read_latency") {
            words >> read_latency;
        } else if (op == "linger") {
            words >> linger;
        } else {
            Command command{op, {}, op_code(op)};
            std::string arg;
            while (words >> arg) command.args.push_back(std::stoull(arg, nullptr, 0));
            program.push_back(command);
        }
    }

    void report(const char *format, ...) __attribute__((format(printf, 2, 3)));

    // run the program from pc to its end (or the watchdog); false on an unknown command
    bool run() {
        long limit = cycle + max_cycles;
        hang = false;
        params = &param_sets[param_set];   // (parsing may have moved the sets)
        uint32_t read_value = 0;
        Bits got(out_words, 0);
        auto started = std::chrono::steady_clock::now();
        while (pc < program.size()) {
            if (cycle >= limit) {   // the watchdog: abandon the rest of the program
                hang = true;
                hangs++;
                pc = program.size();
                step = 0;
                break;
            }
            // ---- drive this cycle's inputs ----
            top.rst = 0;
            top.bus___05Fw_en = 0;
            top.bus___05Fr_en = 0;
            const Command &command = program[pc];
            bool next = false;   // the command is complete after this cycle's edge
            const int code = command.code;
            if (code == W) {
                top.bus___05Faddr = command.args[0];
                top.bus___05Fw_data = (uint32_t)command.args[1];
                top.bus___05Fw_en = 1;
                next = true;
            } else if (code == R || code == RD || code == IDLE || code == UNTIL) {
                if (step == 0) {
                    top.bus___05Faddr = command.args[0];
                    top.bus___05Fr_en = 1;
                }
            } else if (code == RESET) {
                top.rst = 1;
                next = step + 1 >= (long)command.args[0];
            } else if (code == TICK) {
                next = step + 1 >= (long)command.args[0];
            } else if (code == ABORT) {   // (before this cycle's beats are offered)
                aborted += outputs.size() - out_next;
                outputs.resize(out_next);
                out_wait = 0;
                for (Source *source : {&inputs, &grads}) {
                    source->next = source->beats.size();
                    source->wait = 0;
                }
                params_on = false;
                frame_bad = false;
                next = true;
            }
            // streams
            bool in_valid = inputs.offered();
            top.i___05Fvalid = in_valid;
            if (in_valid) put(top.i___05Fpayload, inputs.beats[inputs.next].data);
#ifdef PADMASK_LEARNING
            bool grad_valid = grads.offered();
            top.i_grad___05Fvalid = grad_valid;
            if (grad_valid) put(top.i_grad___05Fpayload, grads.beats[grads.next].data);
#endif
            bool param_valid = params_on && param_next < params->size() && param_wait == 0;
            top.i_param___05Fvalid = param_valid;
            if (param_valid) put(top.i_param___05Fpayload, (*params)[param_next].data);
            bool out_ready = out_next >= outputs.size() || out_wait == 0;
            top.o___05Fready = out_ready;
            if (!arm_edge(top.rootp, 0)) {
                top.clk = 0;
                top.eval();
            }
            bool in_take = in_valid && top.i___05Fready;
#ifdef PADMASK_LEARNING
            bool grad_take = grad_valid && top.i_grad___05Fready;
#endif
            bool param_take = param_valid && top.i_param___05Fready;
            bool out_take = top.o___05Fvalid && out_ready;
            if (out_take) get_into(got, top.o___05Fpayload);
            // ---- the edge ----
            top.clk = 1;
            top.eval();
            cycle++;
            // ---- advance ----
            inputs.advance(in_take);
#ifdef PADMASK_LEARNING
            grads.advance(grad_take);
#endif
            if (param_take) {
                param_next++;
                param_wait = param_next < params->size() ? (*params)[param_next].delay : 0;
            } else if (param_wait > 0 && params_on) {
                param_wait--;
            }
            if (out_take) {
                if (out_next < outputs.size()) {
                    const Bits &want = outputs[out_next].data;
                    if (want != got) {
                        mismatches++;
                        frame_bad = true;
                        report("mismatch output beat %zu (cycle %ld): expected %s, got %s\n",
                               out_next, cycle, to_hex(want).c_str(), to_hex(got).c_str());
                    }
                    if (outputs[out_next].group) {
                        frame_ends.push_back(cycle);
                        frames_done++;
                        frames_bad += frame_bad;
                        frame_bad = false;
                    }
                    out_next++;
                    out_wait = out_next < outputs.size() ? outputs[out_next].delay : 0;
                } else {
                    extra++;
                    report("extra output beat after %zu (cycle %ld): %s\n", outputs.size(),
                           cycle, to_hex(got).c_str());
                }
            } else if (out_wait > 0 && out_next < outputs.size()) {
                out_wait--;
            }
            // the host's command
            if (code == R || code == RD || code == IDLE || code == UNTIL) {
                if (step == read_latency - 1) {
                    read_value = top.bus___05Fr_data;
                    if (code == R) {
                        if ((read_value & command.args[2]) != command.args[1]) {
                            read_mismatches++;
                            report("mismatch read 0x%llx (cycle %ld): expected 0x%llx, got "
                                   "0x%x (mask 0x%llx)\n", (unsigned long long)command.args[0],
                                   cycle, (unsigned long long)command.args[1], read_value,
                                   (unsigned long long)command.args[2]);
                        }
                        next = true;
                    } else if (code == RD) {
                        reads.push_back({command.args[0], read_value});
                        next = true;
                    } else if ((read_value & command.args[1]) ==
                               (code == UNTIL ? command.args[2] : 0)) {
                        next = true;
                    } else {
                        step = -1;   // read again
                    }
                }
            } else if (code == PARAMS) {
                if (step == 0) {   // (every load sends the beats from the first)
                    size_t set = command.args.empty() ? 0 : command.args[0];
                    if (set >= param_sets.size()) {
                        fprintf(stderr, "no parameter set %zu\n", set);
                        return false;
                    }
                    param_set = set;
                    params = &param_sets[set];
                    param_next = 0;
                    param_wait = params->empty() ? 0 : (*params)[0].delay;
                    params_on = true;
                }
                next = param_next >= params->size();
                if (next) params_on = false;
            } else if (code == RELEASE || code == GRADS) {
                (code == RELEASE ? inputs : grads).released = (int)command.args[0];
                next = true;
            } else if (code == STARTED) {
                next = inputs.started(command.args[0]);
            } else if (code == SENT || code == GSENT) {
                next = (code == SENT ? inputs : grads).sent(command.args[0]);
            } else if (code == OUTPUTS) {
                if (out_next >= outputs.size()) {
                    if (linger_left < 0) linger_left = linger;
                    next = linger_left-- == 0;
                }
            } else if (!(code == W || code == RESET || code == TICK || code == ABORT)) {
                fprintf(stderr, "unknown command %s\n", command.op.c_str());
                return false;
            }
            if (next) {
                pc++;
                step = 0;
                linger_left = -1;
            } else {
                step++;
            }
        }
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                       .count();
        return true;
    }

    long errors() const { return mismatches + extra + read_mismatches; }

    void summary() {
        top.final();
        printf("{\"cycles\": %ld, \"seconds\": %.6f, \"cycles_per_s\": %.0f, \"outputs\": %zu, "
               "\"expected_outputs\": %zu, \"mismatches\": %ld, \"extra\": %ld, \"missing\": %zu, "
               "\"read_mismatches\": %ld, \"inputs_taken\": %zu, \"inputs\": %zu, "
               "\"grads_taken\": %zu, \"grads\": %zu, \"hang\": %s, \"hangs\": %ld, "
               "\"frames_done\": %ld, \"frames_bad\": %ld, \"aborted\": %ld, "
               "\"frame_ends\": [",
               cycle, seconds, seconds > 0 ? cycle / seconds : 0.0, out_next, outputs.size(),
               mismatches, extra, outputs.size() - out_next, read_mismatches, inputs.next,
               inputs.beats.size(), grads.next, grads.beats.size(), hangs ? "true" : "false", hangs,
               frames_done, frames_bad, aborted);
        for (size_t i = 0; i < frame_ends.size(); i++)
            printf(i ? ", %ld" : "%ld", frame_ends[i]);
        printf("]}\n");
    }
};

void Harness::report(const char *format, ...) {
    if (reported++ >= 20) return;
    va_list args;
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s VECTORS (or - for commands on stdin)\n", argv[0]);
        return 2;
    }
    Harness harness;
    std::string line;
    if (std::string(argv[1]) == "-") {
        while (std::getline(std::cin, line)) {
            if (line != "sync") {
                harness.parse(line);
                continue;
            }
            if (!harness.run()) return 2;
            for (auto &read : harness.reads)
                printf("read 0x%llx 0x%x\n", (unsigned long long)read.first, read.second);
            harness.reads.clear();
            printf("sync %ld %ld %d %ld %ld %zu %ld %ld %ld %ld %ld\n", harness.cycle,
                   harness.errors(), harness.hang ? 1 : 0, harness.mismatches, harness.extra,
                   harness.outputs.size() - harness.out_next, harness.read_mismatches,
                   harness.frames_done, harness.frames_bad, harness.aborted, harness.hangs);
            fflush(stdout);
        }
    } else {
        std::ifstream file(argv[1]);
        if (!file) {
            fprintf(stderr, "cannot read %s\n", argv[1]);
            return 2;
        }
        while (std::getline(file, line)) harness.parse(line);
        if (!harness.run()) return 2;
    }
    harness.summary();
    return 0;
}
