"""Where work that fans out runs: threads and processes of this machine, or a Ray cluster
(the ``ray`` extra). Sweeps and batch prediction choose among them."""
