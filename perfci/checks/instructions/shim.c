/* perfci's callgrind shim: switch callgrind's collection on and off around one request.
 *
 * Compiled at first use against valgrind's headers (perfci_plugins._callgrind.build_shim)
 * and loaded with ctypes by the worker that runs under `valgrind --tool=callgrind
 * --instr-atstart=no`. Outside valgrind every macro is a no-op.
 */
#include <valgrind/callgrind.h>

int perfci_on_valgrind(void) { return RUNNING_ON_VALGRIND; }

void perfci_start(void) {
    CALLGRIND_ZERO_STATS;
    CALLGRIND_START_INSTRUMENTATION;
}

void perfci_stop(const char *name) {
    CALLGRIND_STOP_INSTRUMENTATION;
    CALLGRIND_DUMP_STATS_AT(name);
}
