exports.handler = async () => ({ok: true, from: 'node', greeting: process.env.GREETING})
