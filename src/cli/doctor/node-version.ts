import type { DoctorCheck } from "./check.js";

const MIN_MAJOR = 20;

export const nodeVersion: DoctorCheck = {
  name: "node",
  run: () => {
    const major = Number(process.versions.node.split(".")[0]);
    return Promise.resolve(
      major >= MIN_MAJOR
        ? { status: "ok", detail: `v${process.versions.node}`, data: { version: process.versions.node } }
        : { status: "fail", detail: `v${process.versions.node}: orc needs Node ${String(MIN_MAJOR)} or newer`, data: { version: process.versions.node } },
    );
  },
};
