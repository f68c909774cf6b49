#!/usr/bin/env bash
# Public driver types nothing outside the driver names: the candidates for `internal` (issue 19).
# usage: tools/internalize-candidates.sh [--no-build]
# Builds the host tests (so driver, host and their tests, Debug), then reads the DLLs' metadata and the users' sources
# (tools/internalize-candidates.cs says how it judges).
# It only lists; making a type internal is a source edit, checked by building the solution and the driver tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ "${1:-}" != "--no-build" ]]; then
  dotnet build "$root/tests/NicScript.Host.Tests/NicScript.Host.Tests.csproj" -c Debug -v quiet -nologo >&2
fi
exec dotnet run --file "$root/tools/internalize-candidates.cs" -- \
  "$root/driver/bin/Debug/net10.0/NicScript.Driver.dll" \
  "$root/host/bin/Debug/net10.0/nicscript.dll" "$root/tests/NicScript.Host.Tests/bin/Debug/net10.0/NicScript.Host.Tests.dll" \
  "$root/host" "$root/tests/NicScript.Host.Tests" "$root/scripts"
