// Replays a vector file (sim/vectors.py) on the Verilated core and reports mismatches by beat.
//
// The file is one command per line. Stream beats (payloads in hexadecimal, each with the cycles
// to wait before it is offered or, for outputs, before the consumer is ready for it):
//   p HEX DELAY      a parameter beat (i_param)
//   f                the input beats that follow belong to the next frame
//   i HEX DELAY      an input beat (i)
//   o HEX DELAY      an expected output beat (o): DELAY cycles of ready low, then ready
// Settings: "max_cycles N" (the watchdog), "read_latency N", "linger N" (cycles the consumer
// stays ready after the last expected beat, to see extra beats). Everything else is the host's
// program, run in order, one command at a time:
//   w ADDR DATA          register write (one cycle)
//   r ADDR EXPECT MASK   register read; (data & MASK) must equal EXPECT
//   idle ADDR MASK       read ADDR until (data & MASK) == 0
//   params               offer every parameter beat (again, from the first, each time); wait
//                        until all are taken
//   release N            frames up to N may be offered
//   started N            wait until the first beat of frame N was taken
//   sent N               wait until every beat of frame N was taken
//   outputs              wait until every expected output beat arrived, and linger
//   reset N              rst high for N cycles
//   tick N               N idle cycles
// The summary goes to stdout as one JSON object; the first mismatches before it, one per line.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "verilated.h"
#include "Vpadmask_core.h"

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
    int frame;
};

struct Command {
    std::string op;
    std::vector<uint64_t> args;
};

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s VECTORS\n", argv[0]);
        return 2;
    }
    std::ifstream file(argv[1]);
    if (!file) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    std::vector<Beat> params, inputs, outputs;
    std::vector<Command> program;
    std::vector<size_t> frame_first;   // index of each frame's first input beat
    long max_cycles = 1000000, read_latency = 2, linger = 40;
    std::string line;
    int frame = -1;
    while (std::getline(file, line)) {
        std::istringstream words(line);
        std::string op;
        if (!(words >> op) || op[0] == '#') continue;
        if (op == "p" || op == "i" || op == "o") {
            std::string hex;
            long delay = 0;
            words >> hex >> delay;
            Beat beat{parse_hex(hex), delay, frame};
            (op == "p" ? params : op == "i" ? inputs : outputs).push_back(beat);
        } else if (op == "f") {
            frame++;
            frame_first.push_back(inputs.size());
        } else if (op == "max_cycles") {
            words >> max_cycles;
        } else if (op == "read_latency") {
            words >> read_latency;
        } else if (op == "linger") {
            words >> linger;
        } else {
            Command command{op, {}};
            std::string arg;
            while (words >> arg) command.args.push_back(std::stoull(arg, nullptr, 0));
            program.push_back(command);
        }
    }

    VerilatedContext context;
    Vpadmask_core top(&context);
    const size_t out_words = (sizeof(top.o___05Fpayload) + 3) / 4;

    long cycle = 0;
    size_t in_next = 0, param_next = 0, out_next = 0;
    long in_wait = inputs.empty() ? 0 : inputs[0].delay;
    long param_wait = params.empty() ? 0 : params[0].delay;
    long out_wait = outputs.empty() ? 0 : outputs[0].delay;
    int released = -1;
    bool params_on = false;
    long mismatches = 0, extra = 0, read_mismatches = 0, linger_left = -1;
    int reported = 0;
    bool hang = false;

    // host state: the command being run and its step
    size_t pc = 0;
    long step = 0;
    uint32_t read_value = 0;

    top.rst = 1;   // a reset cycle first, as every simulation starts
    top.clk = 0;
    top.eval();
    top.clk = 1;
    top.eval();
    top.rst = 0;

    auto started = std::chrono::steady_clock::now();
    while (pc < program.size()) {
        if (cycle >= max_cycles) {
            hang = true;
            break;
        }
        // ---- drive this cycle's inputs (clock low) ----
        top.clk = 0;
        top.rst = 0;
        top.bus___05Fw_en = 0;
        top.bus___05Fr_en = 0;
        const Command &command = program[pc];
        bool next = false;   // the command is complete after this cycle's edge
        if (command.op == "w") {
            top.bus___05Faddr = command.args[0];
            top.bus___05Fw_data = (uint32_t)command.args[1];
            top.bus___05Fw_en = 1;
            next = true;
        } else if (command.op == "r" || command.op == "idle") {
            if (step == 0) {
                top.bus___05Faddr = command.args[0];
                top.bus___05Fr_en = 1;
            }
        } else if (command.op == "reset") {
            top.rst = 1;
            next = step + 1 >= (long)command.args[0];
        } else if (command.op == "tick") {
            next = step + 1 >= (long)command.args[0];
        }
        // streams
        bool in_valid = released >= 0 && in_next < inputs.size() && in_wait == 0 &&
                        inputs[in_next].frame <= released;
        top.i___05Fvalid = in_valid;
        if (in_valid) put(top.i___05Fpayload, inputs[in_next].data);
        bool param_valid = params_on && param_next < params.size() && param_wait == 0;
        top.i_param___05Fvalid = param_valid;
        if (param_valid) put(top.i_param___05Fpayload, params[param_next].data);
        bool out_ready = out_next >= outputs.size() || out_wait == 0;
        top.o___05Fready = out_ready;
        top.eval();
        bool in_take = in_valid && top.i___05Fready;
        bool param_take = param_valid && top.i_param___05Fready;
        bool out_take = top.o___05Fvalid && out_ready;
        Bits got;
        if (out_take) got = get(top.o___05Fpayload, out_words);
        // ---- the edge ----
        top.clk = 1;
        top.eval();
        cycle++;
        // ---- advance ----
        if (in_take) {
            in_next++;
            in_wait = in_next < inputs.size() ? inputs[in_next].delay : 0;
        } else if (in_wait > 0 && released >= 0 && in_next < inputs.size() &&
                   inputs[in_next].frame <= released) {
            in_wait--;
        }
        if (param_take) {
            param_next++;
            param_wait = param_next < params.size() ? params[param_next].delay : 0;
        } else if (param_wait > 0 && params_on) {
            param_wait--;
        }
        if (out_take) {
            if (out_next < outputs.size()) {
                Bits want = outputs[out_next].data;
                want.resize(got.size(), 0);
                if (want != got) {
                    mismatches++;
                    if (reported++ < 20)
                        printf("mismatch output beat %zu (cycle %ld): expected %s, got %s\n",
                               out_next, cycle, to_hex(want).c_str(), to_hex(got).c_str());
                }
                out_next++;
                out_wait = out_next < outputs.size() ? outputs[out_next].delay : 0;
            } else {
                extra++;
                if (reported++ < 20)
                    printf("extra output beat after %zu (cycle %ld): %s\n", outputs.size(),
                           cycle, to_hex(got).c_str());
            }
        } else if (out_wait > 0 && out_next < outputs.size()) {
            out_wait--;
        }
        // the host's command
        if (command.op == "r" || command.op == "idle") {
            if (step == read_latency - 1) {
                read_value = top.bus___05Fr_data;
                if (command.op == "r") {
                    if ((read_value & command.args[2]) != command.args[1]) {
                        read_mismatches++;
                        if (reported++ < 20)
                            printf("mismatch read 0x%llx (cycle %ld): expected 0x%llx, got 0x%x"
                                   " (mask 0x%llx)\n", (unsigned long long)command.args[0],
                                   cycle, (unsigned long long)command.args[1], read_value,
                                   (unsigned long long)command.args[2]);
                    }
                    next = true;
                } else if ((read_value & command.args[1]) == 0) {
                    next = true;
                } else {
                    step = -1;   // read again
                }
            }
        } else if (command.op == "params") {
            if (step == 0) {   // (every load sends the beats from the first)
                param_next = 0;
                param_wait = params.empty() ? 0 : params[0].delay;
                params_on = true;
            }
            next = param_next >= params.size();
            if (next) params_on = false;
        } else if (command.op == "release") {
            released = (int)command.args[0];
            next = true;
        } else if (command.op == "started") {
            size_t n = command.args[0];
            next = n >= frame_first.size() || in_next > frame_first[n];
        } else if (command.op == "sent") {
            size_t n = command.args[0] + 1;
            next = in_next >= (n < frame_first.size() ? frame_first[n] : inputs.size());
        } else if (command.op == "outputs") {
            if (out_next >= outputs.size()) {
                if (linger_left < 0) linger_left = linger;
                next = linger_left-- == 0;
            }
        } else if (!(command.op == "w" || command.op == "reset" || command.op == "tick")) {
            fprintf(stderr, "unknown command %s\n", command.op.c_str());
            return 2;
        }
        if (next) {
            pc++;
            step = 0;
        } else {
            step++;
        }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                         .count();
    top.final();
    printf("{\"cycles\": %ld, \"seconds\": %.6f, \"cycles_per_s\": %.0f, \"outputs\": %zu, "
           "\"expected_outputs\": %zu, \"mismatches\": %ld, \"extra\": %ld, \"missing\": %zu, "
           "\"read_mismatches\": %ld, \"inputs_taken\": %zu, \"inputs\": %zu, \"hang\": %s}\n",
           cycle, seconds, seconds > 0 ? cycle / seconds : 0.0, out_next, outputs.size(),
           mismatches, extra, outputs.size() - out_next, read_mismatches, in_next,
           inputs.size(), hang ? "true" : "false");
    return 0;
}
