//! read(2), write(2), splice and sendfile on a unix socket of any type: recvmsg and
//! sendmsg with no address, no control data and no flags, the writer's credentials attached
//! (a peer with SO_PASSCRED still sees who wrote).

use alloc::vec::Vec;

use crate::error::Result;
use crate::fs::socket::{send_user, SendMsg, Socket};
use crate::mm::io::{VmReader, VmWriter};

fn plain_message(data: Vec<u8>) -> Result<SendMsg> {
    let creds = crate::net::env()?.creds();
    Ok(SendMsg { data, addr: None, rights: Vec::new(), creds, flags: 0 })
}

pub fn read(socket: &impl Socket, buf: &mut VmWriter, nonblock: bool) -> Result<usize> {
    let m = socket.recvmsg(buf.len(), 0, nonblock)?;
    buf.write(&m.data)?;
    Ok(m.data.len())
}

pub fn write(socket: &impl Socket, buf: &VmReader, nonblock: bool) -> Result<usize> {
    buf.check()?;
    send_user(socket, &[*buf], plain_message(Vec::new())?, nonblock)
}
