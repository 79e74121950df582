"""The OS seam reads pyinfra's LinuxDistribution fact: checked on what a real
Ubuntu 24.04.3 GPU host printed for that fact's command."""

from pyinfra.facts.server import LinuxDistribution

from seedcore.families.os_release import distro_of, id_like

UBUNTU_2404_OUTPUT = """/etc/lsb-release
DISTRIB_ID=Ubuntu
DISTRIB_RELEASE=24.04
DISTRIB_CODENAME=noble
DISTRIB_DESCRIPTION="Ubuntu 24.04.3 LTS"
---
/etc/os-release
PRETTY_NAME="Ubuntu 24.04.3 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.3 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
---
""".splitlines()


def test_a_real_ubuntu_2404_host_reads_as_ubuntu_noble_like_debian():
    facts = LinuxDistribution().process(UBUNTU_2404_OUTPUT)

    assert distro_of(facts) == ("ubuntu", "noble")
    assert id_like(facts) == ["debian"]
