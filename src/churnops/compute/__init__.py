"""Where heavy work runs: in this process, or on a Dask cluster (an embedded LocalCluster, or an
existing scheduler), chosen by params `base.scheduler`."""
