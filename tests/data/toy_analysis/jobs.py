"""What the toy analysis's jobs read and write."""

from gateroles.analyses.declare import Aggregate, Analysis, PerCell

JOBS = Analysis(
    name="gate_means",
    sections=("gate_means",),  # the config sections its Settings read
    category="Gate means",  # its figures' heading in `snakemake --report`
    # one job per cell of the main grid: reads each seed's gate file, writes one table
    per_cell=(PerCell(tables=("means",), cells=lambda grid: grid.analysis),),
    # one job over every cell: its table `means` -> results/tables/gate_means.csv
    aggregate=Aggregate(outputs={"means": "gate_means"}),
    # figure -> the aggregate outputs it draws
    figures={"gate_means": ("means",)},
    # report input name -> the aggregate output its section reads
    report={"means": "means"},
)
