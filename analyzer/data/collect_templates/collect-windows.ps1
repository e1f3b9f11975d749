# Collects what analyzer needs from this PC into one zip with manifest.json (the layout and manifest
# of `analyze collect`). Windows PowerShell 5.1, no modules. Run as administrator to include every
# user's folders and the Security log; without it, your own folders and the logs you may read.
#   powershell -ExecutionPolicy Bypass -File collect-windows.ps1 [-Out FILE] [-SinceDays N]
# Event logs are exported with Windows' own `wevtutil epl` (the files are locked while Windows runs).
# Backups: only their metadata files (Info.plist, Manifest.plist, Status.plist, Manifest.db) and a
# listing, never their content.
# @@GENERATED@@
param([string]$Out = "", [int]$SinceDays = 0)
$ErrorActionPreference = 'Continue'
Add-Type -AssemblyName System.IO.Compression.FileSystem

@@LOCATIONS@@
$SkipProfiles = @@SKIP@@

$Drive = $env:SystemDrive; if (-not $Drive) { $Drive = 'C:' }
$Letter = $Drive.Substring(0, 1).ToUpper()
$SystemDir = ($env:SystemRoot -replace '^[A-Za-z]:\\', ''); if (-not $SystemDir) { $SystemDir = 'Windows' }
$Now = (Get-Date).ToUniversalTime()
$Cutoff = $null; if ($SinceDays -gt 0) { $Cutoff = $Now.AddDays(-$SinceDays) }
if (-not $Out) { $Out = Join-Path (Get-Location) ("analyzer-{0}-{1}.zip" -f $env:COMPUTERNAME, (Get-Date -Format 'yyyyMMdd-HHmmss')) }
$Out = [IO.Path]::GetFullPath($Out)
$Stage = Join-Path ([IO.Path]::GetTempPath()) ("analyzer-collect-" + [Guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path (Join-Path $Stage 'files') -Force | Out-Null
$Files = New-Object System.Collections.ArrayList
$NotFound = New-Object System.Collections.ArrayList
$Unreadable = New-Object System.Collections.ArrayList
$NotFollowed = New-Object System.Collections.ArrayList
$Old = New-Object System.Collections.ArrayList
$Backups = New-Object System.Collections.ArrayList
$Present = @{}

function Iso($t) { $t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss+00:00") }
function IsLink($item) { [bool]($item.Attributes -band [IO.FileAttributes]::ReparsePoint) }
function Original($rel) { "$($Letter):\" + ($rel -replace '/', '\') }
function Rel($full) { $full.Substring($Drive.Length + 1) -replace '\\', '/' }

function Folders($pattern) {
  $list = @("$Drive\")
  $i = 0
  foreach ($part in ($pattern -split '/')) {
    if ($part -eq 'Windows' -and $i -eq 0) { $part = $SystemDir }
    $next = @()
    foreach ($d in $list) {
      if ($part.Contains('*')) {
        foreach ($e in @(Get-ChildItem -LiteralPath $d -Directory -Force -ErrorAction SilentlyContinue | Where-Object { $_.Name -like $part })) {
          if ($i -eq 1 -and $SkipProfiles -contains $e.Name) { continue }
          if (IsLink $e) { [void]$NotFollowed.Add([ordered]@{ path = Original (Rel $e.FullName); read_from = $e.FullName; reason = 'symbolic link, not followed' }) } else { $next += $e.FullName }
        }
      } else {
        $p = Join-Path $d $part
        $e = Get-Item -LiteralPath $p -Force -ErrorAction SilentlyContinue
        if ($e -and $e.PSIsContainer) {
          if (IsLink $e) { [void]$NotFollowed.Add([ordered]@{ path = Original (Rel $e.FullName); read_from = $e.FullName; reason = 'symbolic link, not followed' }) } else { $next += $e.FullName }
        }
      }
    }
    $list = $next
    $i++
  }
  return $list
}

function Walk($dir, $recurse) {
  # Windows PowerShell's -Recurse enters junctions and links: walk by hand and never enter one.
  $items = @(Get-ChildItem -LiteralPath $dir -Force -ErrorAction SilentlyContinue -ErrorVariable errs)
  foreach ($err in $errs) { [void]$Unreadable.Add([ordered]@{ path = Original (Rel $dir); reason = $err.Exception.Message }) }
  foreach ($item in $items) {
    if (IsLink $item) { [void]$NotFollowed.Add([ordered]@{ path = Original (Rel $item.FullName); read_from = $item.FullName; reason = 'symbolic link, not followed' }); continue }
    if ($item.PSIsContainer) { if ($recurse) { Walk $item.FullName $recurse } } else { $item }
  }
}

function Take($item, $loc, $how) {
  $rel = Rel $item.FullName
  if ($Cutoff -and $loc.dated -and $item.LastWriteTimeUtc -lt $Cutoff) {
    [void]$Old.Add([ordered]@{ path = Original $rel; location = $loc.id; mtime = Iso $item.LastWriteTimeUtc }); return
  }
  $member = "files/$Letter/$rel"
  $target = Join-Path $Stage ($member -replace '/', '\')
  try {
    New-Item -ItemType Directory -Path (Split-Path $target) -Force | Out-Null
    Copy-Item -LiteralPath $item.FullName -Destination $target -Force -ErrorAction Stop
  } catch {
    [void]$Unreadable.Add([ordered]@{ path = Original $rel; location = $loc.id; reason = $_.Exception.Message }); return
  }
  Add-File $target $member (Original $rel) $item $how $loc
}

function Add-File($target, $member, $original, $item, $how, $loc) {
  $hash = (Get-FileHash -LiteralPath $target -Algorithm SHA256).Hash.ToLower()
  [void]$Files.Add([ordered]@{ member = $member; original_path = $original; size = (Get-Item -LiteralPath $target).Length;
    mtime = Iso $item.LastWriteTimeUtc; sha256 = $hash; obtained = $how; location = $loc.id; kind = $loc.kind })
  $Present[$loc.kind] = $true
}

function Export-Channel($channel, $loc) {
  $name = ($channel -replace '/', '%4') + '.evtx'
  $rel = ($loc.folder -replace '^Windows', $SystemDir) + '/' + $name
  $member = "files/$Letter/$rel"
  $target = Join-Path $Stage ($member -replace '/', '\')
  New-Item -ItemType Directory -Path (Split-Path $target) -Force | Out-Null
  $wargs = @('epl', $channel, $target)
  if ($Cutoff) { $wargs += ('/q:*[System[TimeCreated[timediff(@SystemTime) <= {0}]]]' -f [int64]($Now - $Cutoff).TotalMilliseconds) }
  $err = & wevtutil.exe @wargs '/ow:true' 2>&1
  if ($LASTEXITCODE -ne 0 -or -not (Test-Path -LiteralPath $target)) {
    [void]$Unreadable.Add([ordered]@{ path = Original $rel; location = $loc.id; channel = $channel; reason = "wevtutil epl exited $($LASTEXITCODE): $err" }); return
  }
  Add-File $target $member (Original $rel) (Get-Item -LiteralPath $target) "wevtutil epl $channel" $loc
}

function List-Backup($top, $dir, $all, $files) {
  foreach ($item in @(Get-ChildItem -LiteralPath $dir -Force -ErrorAction SilentlyContinue)) {
    if (IsLink $item) { continue }
    $name = $item.FullName.Substring($top.Length + 1) -replace '\\', '/'
    if ($item.PSIsContainer) { [void]$all.Add([ordered]@{ name = $name; dir = $true }); List-Backup $top $item.FullName $all $files }
    else { $e = [ordered]@{ name = $name; size = $item.Length }; [void]$all.Add($e); [void]$files.Add($e) }
  }
}

function Backup-Folder($device, $loc) {
  # the metadata files only; the folder's listing beside them in the bundle (analyzer reads it
  # instead of the content) and, its first 2000 files, in the manifest
  foreach ($name in @('Info.plist', 'Manifest.plist', 'Status.plist', 'Manifest.db')) {
    $f = Get-Item -LiteralPath (Join-Path $device.FullName $name) -Force -ErrorAction SilentlyContinue
    if ($f -and -not $f.PSIsContainer -and -not (IsLink $f)) { Take $f $loc 'copied (backup metadata file)' }
  }
  $all = New-Object System.Collections.ArrayList
  $files = New-Object System.Collections.ArrayList
  List-Backup $device.FullName $device.FullName $all $files
  $rel = Rel $device.FullName
  $listingMember = "files/$Letter/$rel/.analyzer-listing.json"
  $sidecar = Join-Path $Stage ($listingMember -replace '/', '\')
  New-Item -ItemType Directory -Path (Split-Path $sidecar) -Force | Out-Null
  $json = ConvertTo-Json -InputObject ([ordered]@{ format = 'analyzer-backup-listing'; folder = Original $rel; entries = @($all) }) -Depth 4 -Compress
  [IO.File]::WriteAllText($sidecar, $json, (New-Object Text.UTF8Encoding $false))
  [void]$Backups.Add([ordered]@{ folder = Original $rel; location = $loc.id; member = "files/$Letter/$rel";
    listing = @($files | Select-Object -First 2000); entries = $files.Count; content = 'not collected (metadata files only)';
    listing_member = $listingMember })
  $Present['backup'] = $true
}

foreach ($loc in $Locations) {
  $before = $Files.Count + $Old.Count + $Backups.Count
  if ($loc.take -eq 'eventlog') { foreach ($c in $loc.channels) { Export-Channel $c $loc }; continue }
  $folders = @(Folders $loc.folder)
  foreach ($d in $folders) {
    if ($loc.take -eq 'backup') {
      foreach ($dev in @(Get-ChildItem -LiteralPath $d -Directory -Force -ErrorAction SilentlyContinue)) { if (-not (IsLink $dev)) { Backup-Folder $dev $loc } }
      continue
    }
    foreach ($item in @(Walk $d $loc.recurse)) {
      $sub = $item.FullName.Substring($d.Length).TrimStart('\') -replace '\\', '/'
      if ($sub -match $loc.regex) { Take $item $loc 'copied' }
    }
  }
  if ($Files.Count + $Old.Count + $Backups.Count -eq $before) {
    $looked = @($folders | ForEach-Object { Original (Rel $_) }); if (-not $looked.Count) { $looked = @(Original $loc.folder) }
    [void]$NotFound.Add([ordered]@{ location = $loc.id; kind = $loc.kind; looked_in = $looked; why = 'not found' })
  }
}

$missing = @($NotFound | ForEach-Object { $_.kind } | Where-Object { -not $Present[$_] } | Sort-Object -Unique)
$manifest = [ordered]@{
  format = 'analyzer-collection'; format_version = 1; analyzer = 'collect-windows.ps1'; created = Iso $Now
  host = $env:COMPUTERNAME; live = $true; since = $(if ($Cutoff) { Iso $Cutoff } else { $null }); redacted = $false
  roots = @([ordered]@{ path = "$Drive\"; os = 'windows'; drive = $Letter; profile = $false })
  backups_policy = "backup folders: only Info.plist, Manifest.plist, Status.plist and Manifest.db are taken, with a listing of the folder; the backup's content is never collected"
  files = @($Files); not_found = @($NotFound); unreadable = @($Unreadable); not_followed = @($NotFollowed)
  older_than_since = @($Old); backups = @($Backups)
  kinds = [ordered]@{ present = @($Present.Keys | Sort-Object); missing = $missing }
}
$json = ConvertTo-Json -InputObject $manifest -Depth 8
[IO.File]::WriteAllText((Join-Path $Stage 'manifest.json'), $json, (New-Object Text.UTF8Encoding $false))
if (Test-Path -LiteralPath $Out) { Remove-Item -LiteralPath $Out -Force }
[IO.Compression.ZipFile]::CreateFromDirectory($Stage, $Out)
Remove-Item -LiteralPath $Stage -Recurse -Force
Write-Host "collect-windows.ps1: $($Files.Count) file(s) into $Out"
if ($Unreadable.Count) { Write-Host "some files could not be read or exported: see manifest.json"; exit 3 }
exit 0
