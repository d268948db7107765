; Inno Setup 6 script of the Windows installer (not built by this project's CI, which runs
; on Linux: build and test it on Windows as the README's "Desktop installers" says).
;
;   1. the bundle:  .venv\Scripts\pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\workbench.spec
;   2. its test:    dist\adversarial-workbench\workbench.exe --smoke
;   3. installer:   iscc /DAppVersion=0.1.0 packaging\windows\adversarial-workbench.iss
;                   -> dist\adversarial-workbench-0.1.0-setup.exe
;
; Installs for all users (administrator) or, without administrator rights, for the current
; user only ({autopf} is then the user's own Programs folder): a locked-down laptop works.
; Start menu entry (and optionally a desktop icon) for the windowed "Adversarial Workbench.exe";
; the command line is "workbench.exe" in the same folder.

#ifndef AppVersion
  #error Give the version: iscc /DAppVersion=X.Y.Z (the __version__ of workbench/__init__.py)
#endif
#define AppName "Adversarial Workbench"
#define AppExe "Adversarial Workbench.exe"
#define Bundle "..\..\dist\adversarial-workbench"

[Setup]
AppId={{6F3C1E2A-8B7D-4C55-9E0A-2D4B7A1C9E31}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Adversarial Workbench developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=adversarial-workbench-{#AppVersion}-setup
SetupIconFile=..\icons\adversarial-workbench.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
LZMAUseSeparateProcess=yes
; A bundle from a CUDA build of PyTorch passes Inno Setup's 2 GB limit for one setup file:
; uncomment to split it into setup.exe + .bin files (a CPU-only build stays well below).
;DiskSpanning=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Attack and defend machine-learning models and watch it happen"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

