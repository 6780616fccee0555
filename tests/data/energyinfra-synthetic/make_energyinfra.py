#!/usr/bin/env python3
"""Writes small synthetic CSVs in the Energyinfra llama.cpp formats (docs/validation-grid.md) for the
tests: the real Energyinfra files carry no licence, so the repository does not include them.

The latency and power come from a stated law (below) with 0.5 % deterministic noise, so the tests
know what a fit should recover. Run from anywhere; it rewrites the three files beside this script:
  sweep.csv       GPU x EMC sweep (finegrained_profiling format): 4 workloads x 11 GPU x 2 EMC x
                  3 repeats of decode rows, the same count of 'mixed' rows (which readers skip).
  glitched.csv    the same format, with the clock change not taking effect at 4 GPU x EMC
                  combinations in every workload (latency and power of the lowest GPU clock), and
                  one failed decode run (output_tokens = 0).
  cpu_gpu.csv     CPU x GPU runs without power (real_experiment format), 5 failed runs.
"""
import csv
import math
import os
import random

GPU_MHZ = [306, 408, 510, 612, 714, 816, 918, 1020, 1122, 1224, 1300]
EMC_MHZ = [2133, 3199]
CPU_MHZ = [1036, 1497, 2201]
WORKLOADS = {"p64_o64": 64, "p128_o64": 128, "p256_o64": 256, "p512_o64": 512}
SWEEP_HEADER = ("timestamp,config_name,gpu_freq_mhz,cpu_freq_mhz,emc_freq_mhz,target_gpu_mhz,"
                "target_emc_mhz,workload,prompt_length,output_length,phase,repeat,ttft_ms,tpot_ms,"
                "total_time_ms,output_tokens,tokens_per_second,total_energy_j,avg_power_w,max_power_w,"
                "energy_per_token_j,tokens_per_joule,avg_gpu_soc_w,avg_cpu_cv_w,avg_sys_5v0_w,"
                "avg_temp_cpu_c,power_samples,model,runtime,experiment").split(",")
CPU_GPU_HEADER = ("timestamp,config_name,gpu_freq_mhz,cpu_freq_mhz,target_gpu_freq_mhz,"
                  "target_cpu_freq_mhz,workload,prompt_length,output_length,repeat,ttft_ms,tpot_ms,"
                  "total_time_ms,output_tokens,tokens_per_second,model,runtime").split(",")


def tpot_ms(prompt, gpu, emc, cpu=2201):
    """Decode time per token: a GPU-bound, a memory-bound and a host part (ms)."""
    base = 40 + 0.02 * prompt
    return base * (0.55 * GPU_MHZ[-1] / gpu + 0.30 * EMC_MHZ[-1] / emc + 0.15 * CPU_MHZ[-1] / cpu)


def power_w(gpu, emc):
    return 6.0 + 14.0 * (gpu / GPU_MHZ[-1]) ** 2.2 + 3.0 * emc / EMC_MHZ[-1]


def sweep_rows(rng, glitched):
    rows = []
    stuck = {(GPU_MHZ[3], EMC_MHZ[1]), (GPU_MHZ[5], EMC_MHZ[1]), (GPU_MHZ[7], EMC_MHZ[0]),
             (GPU_MHZ[9], EMC_MHZ[1])} if glitched else set()
    failed = glitched
    for wl, prompt in WORKLOADS.items():
        for phase in ("decode", "mixed"):
            for emc in EMC_MHZ:
                for gpu in GPU_MHZ:
                    eff = GPU_MHZ[0] if (gpu, emc) in stuck else gpu  # the clock change did not act
                    for rep in range(3):
                        t = tpot_ms(prompt, eff, emc) * (1 + rng.gauss(0, 0.005))
                        p = power_w(eff, emc) * (1 + rng.gauss(0, 0.005))
                        tokens = 64
                        if failed and phase == "decode":
                            tokens, failed = 0, False
                        total = t * 64 + 2 * t
                        rows.append({
                            "timestamp": "2026-01-01T00:00:00", "config_name": f"GPU{gpu}_EMC{emc}_CPU2201",
                            "gpu_freq_mhz": gpu, "cpu_freq_mhz": 2201, "emc_freq_mhz": emc,
                            "target_gpu_mhz": gpu, "target_emc_mhz": emc, "workload": wl,
                            "prompt_length": prompt, "output_length": 64, "phase": phase, "repeat": rep,
                            "ttft_ms": round(2 * t, 3), "tpot_ms": round(t, 4), "total_time_ms": round(total, 3),
                            "output_tokens": tokens, "tokens_per_second": round(1e3 / t, 4),
                            "total_energy_j": round(p * total / 1e3, 3), "avg_power_w": round(p, 3),
                            "max_power_w": round(p * 1.05, 3), "energy_per_token_j": round(p * t / 1e3, 5),
                            "tokens_per_joule": round(1e3 / (p * t), 5), "avg_gpu_soc_w": round(0.6 * p, 3),
                            "avg_cpu_cv_w": 0.4, "avg_sys_5v0_w": round(0.3 * p, 3), "avg_temp_cpu_c": 50.0,
                            "power_samples": 10, "model": "synthetic-7B", "runtime": "llama.cpp",
                            "experiment": "finegrained_gpu_emc"})
    return rows


def cpu_gpu_rows(rng):
    rows = []
    failures = 5
    for wl, prompt in WORKLOADS.items():
        for cpu in CPU_MHZ:
            for gpu in GPU_MHZ:
                for rep in range(3):
                    t = tpot_ms(prompt, gpu, EMC_MHZ[-1], cpu) * (1 + rng.gauss(0, 0.005))
                    tokens = 64
                    if failures and gpu == GPU_MHZ[-1] and rep == 0:
                        tokens, failures = 0, failures - 1
                    rows.append({
                        "timestamp": "2026-01-01T00:00:00", "config_name": f"GPU{gpu}_CPU{cpu}",
                        "gpu_freq_mhz": gpu, "cpu_freq_mhz": cpu, "target_gpu_freq_mhz": gpu,
                        "target_cpu_freq_mhz": cpu, "workload": wl, "prompt_length": prompt,
                        "output_length": 64, "repeat": rep, "ttft_ms": round(2 * t, 3),
                        "tpot_ms": round(t, 4), "total_time_ms": round(66 * t, 3), "output_tokens": tokens,
                        "tokens_per_second": round(1e3 / t, 4), "model": "synthetic-3B",
                        "runtime": "llama.cpp"})
    return rows


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    write(os.path.join(here, "sweep.csv"), SWEEP_HEADER, sweep_rows(random.Random(1), False))
    write(os.path.join(here, "glitched.csv"), SWEEP_HEADER, sweep_rows(random.Random(2), True))
    write(os.path.join(here, "cpu_gpu.csv"), CPU_GPU_HEADER, cpu_gpu_rows(random.Random(3)))


if __name__ == "__main__":
    main()
