"""Write tests/ref/nwb-h5py.nwb: the NWB test fixture of
tests/unit/nwb_fixture.c (same units, electrodes, trials and time series,
same layout and attributes), written by Debian's python3-h5py, so the tests
check nwb-import on a file HDF5 did not get from axon's own writer. The
h5py version differs in what h5py chooses by itself: string storage, object
references made through h5py, attribute order, 'object_id' on every typed
object (as pynwb writes), and the scalar root datasets.

    /usr/bin/python3 scripts/ref/nwb_fixture.py [OUT]
"""
import sys
import uuid

import h5py
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/ref/nwb-h5py.nwb"
STR = h5py.string_dtype("utf-8")

SPIKES = [0.1, 0.26, 0.30, 0.52, 1.1, 2.9, 6.6, 6.61, 8.0,  # unit 10
          2.3, 2.53, 4.7,                                  # unit 11
          6.3, 6.9]                                        # unit 13 (12 has none)
SPIKE_END = [9, 12, 12, 14]
OBS = [[0, 7.9], [0, 3], [4, 10], [0, 10], [0, 10]]
OBS_END = [1, 3, 4, 5]


def typed(obj, ntype, description=None):
    obj.attrs["neurodata_type"] = ntype
    obj.attrs["namespace"] = "core"
    obj.attrs["object_id"] = str(uuid.UUID(int=len(ntype) * 7919 + len(obj.name)))
    if description is not None:
        obj.attrs["description"] = description


def column(g, name, values, dtype):
    d = g.create_dataset(name, data=np.asarray(values, dtype=dtype))
    typed(d, "VectorData", "a column")
    return d


def index(g, name, ends, target):
    d = g.create_dataset(name, data=np.asarray(ends, dtype="<i8"))
    typed(d, "VectorIndex", "index of " + target.name)
    d.attrs["target"] = target.ref


def main():
    with h5py.File(OUT, "w", libver="earliest") as f:
        typed(f, "NWBFile")
        f.attrs["nwb_version"] = "2.6.0"
        f.create_dataset("identifier", data="fixture-0001", dtype=STR)
        f.create_dataset("session_description",
                         data="axon test fixture: four units, four trials", dtype=STR)
        for name in ("session_start_time", "timestamps_reference_time"):
            f.create_dataset(name, data="2026-01-01T00:00:00+00:00", dtype=STR)

        el = f.create_group("general/extracellular_ephys/electrodes")
        typed(el, "DynamicTable", "metadata about electrodes")
        el.attrs["colnames"] = np.array(["location", "group_name"], dtype=object)
        el.create_dataset("id", data=np.arange(3, dtype="<i8"))
        typed(el["id"], "ElementIdentifiers")
        column(el, "location", ["CA1", "DG", "PO"], STR)
        column(el, "group_name", ["probe00", "probe00", "probe01"], STR)

        u = f.create_group("units")
        typed(u, "Units", "sorted units")
        u.attrs["colnames"] = np.array(["spike_times", "obs_intervals", "quality",
                                        "electrodes"], dtype=object)
        u.create_dataset("id", data=np.array([10, 11, 12, 13], dtype="<i8"))
        typed(u["id"], "ElementIdentifiers")
        st = column(u, "spike_times", SPIKES, "<f8")
        index(u, "spike_times_index", SPIKE_END, st)
        obs = column(u, "obs_intervals", OBS, "<f8")
        index(u, "obs_intervals_index", OBS_END, obs)
        column(u, "quality", ["good", "good", "mua", "good"], STR)
        e = u.create_dataset("electrodes", data=np.array([0, 1, 2, 0], dtype="<i8"))
        typed(e, "DynamicTableRegion", "each unit's electrode")
        e.attrs["table"] = el.ref
        index(u, "electrodes_index", [1, 2, 3, 4], e)

        t = f.create_group("intervals/trials")
        typed(t, "TimeIntervals", "experimental trials")
        cols = ["start_time", "stop_time", "stimOn_times", "choice", "contrastLeft",
                "contrastRight", "probabilityLeft", "reach_dir", "outcome"]
        t.attrs["colnames"] = np.array(cols, dtype=object)
        t.create_dataset("id", data=np.arange(4, dtype="<i8"))
        typed(t["id"], "ElementIdentifiers")
        column(t, "start_time", [0, 2, 4, 6], "<f8")
        column(t, "stop_time", [1.5, 3.5, 5.5, 7.5], "<f8")
        column(t, "stimOn_times", [0.5, 2.5, 4.5, 6.5], "<f8")
        column(t, "choice", [-1, 1, 0, 1], "<f8")
        column(t, "contrastLeft", [1, np.nan, 0.25, np.nan], "<f8")
        column(t, "contrastRight", [np.nan, 0.5, np.nan, 0.0625], "<f8")
        column(t, "probabilityLeft", [0.8, 0.8, 0.2, 0.2], "<f8")
        column(t, "reach_dir", [0, 3, 5, 7], "<i8")
        column(t, "outcome", ["hit", "miss", "hit", "hit"], STR)

        w = f.create_group("acquisition/wheel_velocity")
        typed(w, "TimeSeries", "wheel velocity")
        w.create_dataset("data", data=3 * (np.arange(512) / 64.0) - 1)
        s = w.create_dataset("starting_time", data=np.float64(0))
        s.attrs["rate"] = np.float64(64)
        s.attrs["unit"] = "seconds"

        beh = f.create_group("processing/behavior")
        typed(beh, "ProcessingModule", "behaviour")
        h = beh.create_group("hand_vel")
        typed(h, "TimeSeries", "hand velocity (x, y)")
        ht = 1 / 128 + np.arange(512) / 64.0
        h.create_dataset("data", data=np.stack([ht, 1 - ht / 2], axis=1))
        h.create_dataset("timestamps", data=ht)


if __name__ == "__main__":
    main()
