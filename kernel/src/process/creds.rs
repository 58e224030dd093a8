//! Process credentials.

#[derive(Clone, Debug)]
pub struct Credentials {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
}

impl Credentials {
    pub fn root() -> Self {
        Credentials { uid: 0, euid: 0, suid: 0, gid: 0, egid: 0, sgid: 0 }
    }
}
