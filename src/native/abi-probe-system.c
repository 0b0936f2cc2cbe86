/* Layouts of the structs VoiceHub mirrors from system libraries' headers (Debian -dev packages):
   libmosquitto's message and libc's pollfd. Compiled by the ABI tests. (GPIO goes through
   System.Device.Gpio, which mirrors libgpiod itself.) */
#define ABI_PROBE_SYSTEM
#include <time.h>
#include <poll.h>
#include <mosquitto.h>
#include "abi-probe.h"

int main(void) {
    PROBE_BEGIN();
    STRUCT(mosquitto_message)
        FIELD(mosquitto_message, mid) FIELD(mosquitto_message, topic) FIELD(mosquitto_message, payload)
        FIELD(mosquitto_message, payloadlen) FIELD(mosquitto_message, qos) FIELD(mosquitto_message, retain)
    END_STRUCT();
    STRUCT(pollfd) FIELD(pollfd, fd) FIELD(pollfd, events) FIELD(pollfd, revents) END_STRUCT();
    STRUCT(timespec) FIELD(timespec, tv_sec) FIELD(timespec, tv_nsec) END_STRUCT();
    printf("}}\n");
    return 0;
}
