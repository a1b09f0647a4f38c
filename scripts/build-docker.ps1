# Build the Axon container image on Windows: tags IMAGE_NAME:VERSION and IMAGE_NAME:latest.
# Same variables as build-docker.sh: IMAGE_NAME (axon-api), VERSION (package version).
#   ./scripts/build-docker.ps1 [-Push]
param([switch]$Push)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")

$ImageName = if ($env:IMAGE_NAME) { $env:IMAGE_NAME } else { "axon-api" }
$Version = $env:VERSION
if (-not $Version) {
    $line = Select-String -Path "src/axon/__init__.py" -Pattern '^__version__ = "(.*)"$'
    if (-not $line) { throw "could not read the version from src/axon/__init__.py; set VERSION" }
    $Version = $line.Matches[0].Groups[1].Value
}
$Revision = (git rev-parse --short HEAD 2>$null)
if (-not $Revision) { $Revision = "unknown" }

Write-Host "building ${ImageName}:${Version} (revision $Revision)"
docker build --build-arg "VERSION=$Version" --build-arg "REVISION=$Revision" `
    --tag "${ImageName}:${Version}" --tag "${ImageName}:latest" .
if ($LASTEXITCODE -ne 0) { throw "docker build failed" }
if ($Push) {
    docker push "${ImageName}:${Version}"; if ($LASTEXITCODE -ne 0) { throw "push failed" }
    docker push "${ImageName}:latest"; if ($LASTEXITCODE -ne 0) { throw "push failed" }
}
Write-Host "built ${ImageName}:${Version} and ${ImageName}:latest"
