// Counts the bytes serf says it put on the wire. memberlist increments the go-metrics counters
// memberlist.udp.sent / memberlist.tcp.sent by each message's length (UDP/TCP payload, no IP
// headers), and the serf agent ships them as statsd lines to a UDP port: this listens there.
import { createSocket, type Socket } from 'node:dgram';

const SENT_COUNTER = /memberlist\.(udp|tcp)\.sent:([0-9.eE+-]+)\|c/g;

export class StatsdByteCounter {
  udpBytes = 0;
  tcpBytes = 0;
  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg) => {
      for (const m of msg.toString().matchAll(SENT_COUNTER)) {
        const n = Number(m[2]);
        if (m[1] === 'udp') this.udpBytes += n;
        else this.tcpBytes += n;
      }
    });
  }

  static async listen(host: string, port: number): Promise<StatsdByteCounter> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => resolve());
    });
    return new StatsdByteCounter(socket);
  }

  get totalBytes(): number {
    return this.udpBytes + this.tcpBytes;
  }

  close(): void {
    this.socket.close();
  }
}
