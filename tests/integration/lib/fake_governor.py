#!/usr/bin/env python3
"""The part of the kernel a fake sysfs tree lacks: the current clocks follow the limits.

Every 20 ms, each cpufreq policy's scaling_cur_freq becomes its scaling_max_freq and each devfreq
device's cur_freq its max_freq (a busy board under a performance-like governor), replaced atomically.
Touches READY once running; exits when STOP exists. Usage: fake_governor.py ROOT READY STOP
"""
import glob
import os
import sys
import time


def read(p):
    with open(p) as f:
        return f.read().strip()


def replace(p, value):
    tmp = p + ".gov"
    with open(tmp, "w") as f:
        f.write(value + "\n")
    os.replace(tmp, p)


def main():
    root, ready, stop = sys.argv[1:4]
    pairs = [(os.path.join(d, "scaling_max_freq"), os.path.join(d, "scaling_cur_freq"))
             for d in glob.glob(os.path.join(root, "sys/devices/system/cpu/cpufreq/policy*"))]
    for d, _, files in os.walk(os.path.join(root, "sys/devices")):  # does not follow links (sysfs loops)
        if os.path.basename(os.path.dirname(d)) == "devfreq" and "cur_freq" in files and "max_freq" in files:
            pairs.append((os.path.join(d, "max_freq"), os.path.join(d, "cur_freq")))
    open(ready, "w").close()
    while not os.path.exists(stop):
        for src, dst in pairs:
            try:
                v = read(src)
                if read(dst) != v:
                    replace(dst, v)
            except OSError:
                pass
        time.sleep(0.02)


if __name__ == "__main__":
    main()
