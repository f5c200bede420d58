/// @file
/// std::reference_wrapper, std::ref and std::cref (a writable binding: `W = std::ref(w)`).
/// Their standard header, <functional>, costs ~0.5 s of parse alone (g++ 12, clang++ 14, AMD
/// EPYC: std::function, searchers, hash tables); libstdc++ defines them in <bits/refwrap.h>,
/// which its <string> and <vector> include too. Other standard libraries get <functional>.
#pragma once

#if __has_include(<bits/refwrap.h>)
#include <bits/refwrap.h>  // std::reference_wrapper, std::ref, std::cref
#else
#include <functional>  // std::reference_wrapper, std::ref, std::cref
#endif
