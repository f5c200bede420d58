// Test support: PyTorch scripts run at test time (/usr/bin/python3 with torch and numpy).
// A script starts with torch_prelude, which exits with status 77 when torch or numpy cannot be
// imported: the script's own run tells whether PyTorch is installed, instead of a separate
// `python3 -c 'import torch, numpy'` before it (an import of torch costs 2.4 CPU s on the
// AMD EPYC of the twelfth pass: that check was a third of tensor/review9_networks' run time).
#pragma once

#include <cstdlib>  // std::system
#include <string>

#include <sys/wait.h>  // WIFEXITED, WEXITSTATUS

namespace ctgrad::test {

/// The first lines of a PyTorch script (sys, numpy as np, torch imported).
inline constexpr const char* torch_prelude =
    "import sys\n"
    "try:\n"
    "    import numpy as np, torch\n"
    "except ImportError:\n"
    "    sys.exit(77)\n";

/// std::system(cmd)'s status.
inline int run_script(const std::string& cmd) {
    return std::system(cmd.c_str());
}

/// A status of run_script that says PyTorch is not there: the prelude's 77, or the shell's 127
/// (no /usr/bin/python3). The test then reports "skipped" with a message, as before.
inline bool torch_missing(int status) {
    return status != -1 && WIFEXITED(status) &&
           (WEXITSTATUS(status) == 77 || WEXITSTATUS(status) == 127);
}

}  // namespace ctgrad::test
