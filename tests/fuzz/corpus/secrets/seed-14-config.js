// Client configuration (planted test credentials, never valid)
const config = {
  apiKey: "aXZjljENUhJduRHHJEYX",
  dbPassword: 'S3cure!Passw0rd',
  mongoUri: "mongodb+srv://admin:Lx7pQ2vZ9m@cluster0.mongo.internal/app",
  tokenHeader: "Authorization",
  passwordPattern: /^[A-Za-z0-9]{8,}$/,
};
const password = req.body.password;
module.exports = config;
