// podsandboxctl: a small crictl for podsandboxd (or any CRI v1 endpoint):
// the pod sandbox and image verbs, with crictl's names and flags. The
// command line and the verbs live in cri/ctl/ (cli.h says the exit codes).
#include <iostream>

#include "cri/ctl/cli.h"

int main(int argc, char** argv) {
  return podsandbox::cri::ctl::RunCli(argc, argv, std::cout, std::cerr);
}
